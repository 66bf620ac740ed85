// Canonical chats API (seed 004's chat service): /api/v1/chats*, /api/v1/messages/:id*.
// Sending a message (POST /api/v1/chats/:id/messages) and editing one (PATCH /api/v1/messages/:id)
// stream an answer and live with the answer service, not here.
//
// Access: a chat is its owner's; a public chat can also be read (and its messages listed, exported
// and voted on) by any signed-in user who has its id. Everything else about another user's chat,
// including its existence, is a 404 chat.not_found / message.not_found.
#include "api/caller.hpp"
#include "api/gateway.hpp"
#include "api/routes.hpp"
#include "auth/service.hpp"
#include "chat/chat_store.hpp"
#include "core/json.hpp"
#include "http/range.hpp"

namespace ec {

namespace {

constexpr int64_t kMaxTitleChars = 200;
// An export reads the whole chat, a page at a time; this bounds one request's work.
constexpr size_t kMaxExportPages = 100;
constexpr size_t kExportPageSize = 200;

const Schema kCreateChatSchema = {
    field("title").string().nullable(),
    field("visibility").one_of({"private", "public"}).nullable(),
};

const Schema kUpdateChatSchema = {
    field("title").string(),
    field("visibility").one_of({"private", "public"}),
};

const Schema kListChatsQuery = {
    field("limit").integer().length(1, 100).describe("Chats per page (default 20)"),
    field("cursor").string().describe("nextCursor of the previous page"),
};

const Schema kListMessagesQuery = {
    field("limit").integer().length(1, 200).describe("Messages per page (default 50)"),
    field("cursor").string().describe("nextCursor of the previous page"),
};

const Schema kExportQuery = {
    field("format")
        .one_of({"json", "markdown", "md"})
        .describe("json (default) or markdown (md is an alias)"),
};

std::string cursor_of(const Call& call) {
  const std::string* c = call.query_param("cursor");
  return c ? *c : "";
}

json next_cursor_json(const std::string& cursor) {
  return cursor.empty() ? json(nullptr) : json(cursor);
}

// The title as given, trimmed; 400 when longer than kMaxTitleChars code points once trimmed (the
// store would otherwise cut it silently). Whitespace only reads as "no title".
Result<std::optional<std::string>> parse_title(const json& body) {
  const std::string* t = get_string(body, "title");
  if (t == nullptr) return std::optional<std::string>{};
  size_t b = t->find_first_not_of(" \t\r\n");
  size_t e = t->find_last_not_of(" \t\r\n");
  std::string trimmed = b == std::string::npos ? "" : t->substr(b, e - b + 1);
  std::optional<size_t> n = utf8_length(trimmed);
  if (!n || static_cast<int64_t>(*n) > kMaxTitleChars) {
    return field_error("title", "at most " + std::to_string(kMaxTitleChars) + " characters");
  }
  return std::optional<std::string>(std::move(trimmed));
}

std::optional<std::string> visibility_of(const json& body) {
  if (const std::string* v = get_string(body, "visibility")) return *v;
  return std::nullopt;
}

Task<Result<ChatRecord>> chat_for(Call& call, ChatAccess access) {
  const User& user = signed_in(call);
  co_return co_await find_chat(call.ctx, user.id, *call.param("id"), access);
}

Task<Result<Response>> do_list(Call& call) {
  const User& user = signed_in(call);
  const auto limit = static_cast<size_t>(call.query_int("limit", 20));
  Result<ChatPage> page = co_await list_chats(call.ctx, user.id, limit, cursor_of(call));
  if (!page.ok()) co_return page.take_error();
  json chats = json::array();
  for (const ChatRecord& c : page.value().chats) chats.push_back(chat_json(c));
  co_return json_reply(
      200, {{"chats", chats}, {"nextCursor", next_cursor_json(page.value().next_cursor)}});
}

Task<Result<Response>> do_create(Call& call) {
  const User& user = signed_in(call);
  Result<std::optional<std::string>> title = parse_title(call.body);
  if (!title.ok()) co_return title.take_error();
  Result<ChatRecord> c = co_await create_chat(call.ctx, user.id, title.value().value_or(""),
                                              visibility_of(call.body).value_or("private"), "api");
  if (!c.ok()) co_return c.take_error();
  Response r = json_reply(201, {{"chat", chat_json(c.value())}});
  r.headers.emplace_back("location", "/api/v1/chats/" + c.value().id);
  co_return r;
}

Task<Result<Response>> do_get(Call& call) {
  Result<ChatRecord> c = co_await chat_for(call, ChatAccess::kRead);
  if (!c.ok()) co_return c.take_error();
  co_return json_reply(200, {{"chat", chat_json(c.value())}});
}

Task<Result<Response>> do_update(Call& call) {
  const User& user = signed_in(call);
  Result<std::optional<std::string>> title = parse_title(call.body);
  if (!title.ok()) co_return title.take_error();
  Result<ChatRecord> c =
      co_await find_chat(call.ctx, user.id, *call.param("id"), ChatAccess::kWrite);
  if (!c.ok()) co_return c.take_error();
  Result<ChatRecord> updated =
      co_await update_chat(call.ctx, std::move(c.value()), title.value(), visibility_of(call.body));
  if (!updated.ok()) co_return updated.take_error();
  co_return json_reply(200, {{"chat", chat_json(updated.value())}});
}

Task<Result<Response>> do_delete(Call& call) {
  Result<ChatRecord> c = co_await chat_for(call, ChatAccess::kWrite);
  if (!c.ok()) co_return c.take_error();
  Status s = co_await delete_chat(call.ctx, c.value().id);
  if (!s.ok()) co_return s.take_error();
  co_return no_content(204);
}

Task<Result<Response>> do_export(Call& call) {
  const User& user = signed_in(call);
  std::string format = "json";
  if (const std::string* f = call.query_param("format")) format = *f;
  if (format == "md") format = "markdown";
  Result<ChatRecord> c =
      co_await find_chat(call.ctx, user.id, *call.param("id"), ChatAccess::kRead);
  if (!c.ok()) co_return c.take_error();
  std::vector<MessageRecord> all;
  std::string cursor;
  for (size_t page = 0; page < kMaxExportPages; ++page) {
    Result<MessagePage> p =
        co_await list_messages(call.ctx, c.value().id, user.id, kExportPageSize, cursor);
    if (!p.ok()) co_return p.take_error();
    for (MessageRecord& m : p.value().messages) all.push_back(std::move(m));
    cursor = std::move(p.value().next_cursor);
    if (cursor.empty()) break;
  }
  Response r;
  if (format == "json") {
    json messages = json::array();
    for (const MessageRecord& m : all) messages.push_back(message_json(m));
    r = json_reply(200, {{"chat", chat_json(c.value())}, {"messages", messages}});
    r.headers.emplace_back("content-disposition",
                           attachment_disposition("chat-" + c.value().id + ".json"));
  } else {
    r.status = 200;
    r.headers.emplace_back("content-type", "text/markdown; charset=utf-8");
    r.headers.emplace_back("content-disposition",
                           attachment_disposition("chat-" + c.value().id + ".md"));
    r.body = export_chat_markdown(c.value(), all);
  }
  if (!cursor.empty()) r.headers.emplace_back("x-export-truncated", "1");
  co_return r;
}

Task<Result<Response>> do_messages(Call& call) {
  const User& user = signed_in(call);
  const auto limit = static_cast<size_t>(call.query_int("limit", 50));
  Result<ChatRecord> c =
      co_await find_chat(call.ctx, user.id, *call.param("id"), ChatAccess::kRead);
  if (!c.ok()) co_return c.take_error();
  Result<MessagePage> page =
      co_await list_messages(call.ctx, c.value().id, user.id, limit, cursor_of(call));
  if (!page.ok()) co_return page.take_error();
  json messages = json::array();
  for (const MessageRecord& m : page.value().messages) messages.push_back(message_json(m));
  co_return json_reply(
      200, {{"messages", messages}, {"nextCursor", next_cursor_json(page.value().next_cursor)}});
}

Task<Result<Response>> do_delete_message(Call& call) {
  const User& user = signed_in(call);
  Result<OwnedMessage> m =
      co_await find_message(call.ctx, user.id, *call.param("id"), ChatAccess::kWrite);
  if (!m.ok()) co_return m.take_error();
  Status s = co_await delete_message(call.ctx, std::move(m.value()));
  if (!s.ok()) co_return s.take_error();
  co_return no_content(204);
}

// {"value": "up" | "down"}; also {"vote": …} and the numbers 1 / -1.
Result<int> parse_vote(const json& body) {
  const char* key = find(body, "value") ? "value" : "vote";
  const json* v = find(body, key);
  if (v == nullptr || v->is_null()) return field_error("value", "required: \"up\" or \"down\"");
  if (const std::string* s = v->get_ptr<const std::string*>()) {
    if (*s == "up") return 1;
    if (*s == "down") return -1;
  } else if (std::optional<int64_t> n = get_int(body, key); n && (*n == 1 || *n == -1)) {
    return static_cast<int>(*n);
  }
  return field_error(key, "must be \"up\" or \"down\" (or 1 / -1)");
}

// Voting needs a signed-in user (one vote each, changeable) and read access: the owner, or any
// signed-in reader of a public chat, whose feedback on a shared answer is as useful as the
// owner's. Totals are public to readers; only `mine` is per user.
Task<Result<Response>> do_vote(Call& call) {
  const User& user = signed_in(call);
  // The message first: another user's message is a 404 whatever the body says.
  Result<OwnedMessage> m =
      co_await find_message(call.ctx, user.id, *call.param("id"), ChatAccess::kRead);
  if (!m.ok()) co_return m.take_error();
  Result<int> value = parse_vote(call.body);
  if (!value.ok()) co_return value.take_error();
  Result<MessageRecord> voted =
      co_await vote_message(call.ctx, user.id, std::move(m.value()), value.value());
  if (!voted.ok()) co_return voted.take_error();
  co_return json_reply(200, {{"message", message_json(voted.value())}});
}

}  // namespace

bool add_chat_routes(HttpApp& app) {
  return add_routes(
      app,
      {
          get("/api/v1/chats", do_list)
              .user()
              .query(kListChatsQuery)
              .doc("List your chats, most recently updated first", {"Chats"})
              .answers(200, "ChatPage")
              .errors({"storage.unavailable"}),
          post("/api/v1/chats", do_create)
              .user()
              .optional_json(kCreateChatSchema)
              .doc("Create a chat", {"Chats"})
              .answers(201, "ChatEnvelope")
              .errors({"storage.unavailable", "storage.conflict", "storage.value_too_large"}),
          get("/api/v1/chats/:id", do_get)
              .user()
              .owns("chat")
              .doc("Get a chat (yours, or a public one)", {"Chats"})
              .answers(200, "ChatEnvelope")
              .errors({"chat.not_found", "storage.unavailable"}),
          // Strict about unknown keys: a misspelt field in a PATCH would otherwise be a silent
          // no-op.
          patch("/api/v1/chats/:id", do_update)
              .user()
              .json(kUpdateChatSchema)
              .strict()
              .owns("chat")
              .doc("Rename a chat or change its visibility", {"Chats"})
              .answers(200, "ChatEnvelope")
              .errors({"chat.not_found", "storage.unavailable", "storage.value_too_large"}),
          del("/api/v1/chats/:id", do_delete)
              .user()
              .owns("chat")
              .doc("Delete a chat and its messages", {"Chats"})
              .answers(204, "")
              .errors({"chat.not_found", "storage.unavailable"}),
          get("/api/v1/chats/:id/export", do_export)
              .user()
              .query(kExportQuery)
              .owns("chat")
              .doc("Export a chat with its messages (JSON or Markdown download)", {"Chats"})
              .answers(200, "ChatExport")
              .answers(200, "MarkdownText", "text/markdown")
              .errors({"chat.not_found", "storage.unavailable"}),
          get("/api/v1/chats/:id/messages", do_messages)
              .user()
              .query(kListMessagesQuery)
              .owns("chat")
              .doc("List a chat's messages, oldest first", {"Chats", "Messages"})
              .answers(200, "MessagePage")
              .errors({"chat.not_found", "storage.unavailable"}),
          del("/api/v1/messages/:id", do_delete_message)
              .user()
              .owns("message")
              .doc("Delete a message", {"Messages"})
              .answers(204, "")
              .errors({"message.not_found", "storage.unavailable"}),
          // {"value": "up" | "down" | 1 | -1} (or "vote"): one rule over two keys and two types,
          // checked by parse_vote.
          post("/api/v1/messages/:id/vote", do_vote)
              .user()
              .json()
              .owns("message")
              .doc("Vote on an answer (up or down; voting again changes your vote)", {"Messages"})
              .answers(200, "MessageEnvelope")
              .errors({"message.not_found", "storage.unavailable", "storage.conflict"}),
      });
}

}  // namespace ec
