#include "chat/chat_store.hpp"

#include "bindings/d1.hpp"
#include "core/json.hpp"
#include "core/time.hpp"
#include "core/utf8.hpp"
#include "crypto/encoding.hpp"
#include "crypto/random_id.hpp"
#include "crypto/sha256.hpp"
#include "http/page_cursor.hpp"
#include "http/validate.hpp"

#include <algorithm>
#include <charconv>

namespace ec {

namespace {

constexpr size_t kMaxTitleChars = 200;

constexpr std::string_view kChatColumns =
    "id, user_id, title, visibility, origin, widget_id, memory_stream_id, message_count, "
    "next_seq, created_at, updated_at";

// The same chat columns, prefixed "c_", for a message joined with its chat.
constexpr std::string_view kJoinedChatColumns =
    "c.id AS c_id, c.user_id AS c_user_id, c.title AS c_title, c.visibility AS c_visibility, "
    "c.origin AS c_origin, c.widget_id AS c_widget_id, c.memory_stream_id AS c_memory_stream_id, "
    "c.message_count AS c_message_count, c.next_seq AS c_next_seq, c.created_at AS c_created_at, "
    "c.updated_at AS c_updated_at";

// Message columns with vote totals and the vote of the user bound as ?1.
constexpr std::string_view kMessageColumns =
    "m.id, m.chat_id, m.seq, m.role, m.content, m.status, m.provider, m.model, m.sources, "
    "m.citations, m.tokens_in, m.tokens_out, m.latency_ms, m.error, m.reply_to, m.stream_id, "
    "m.created_at, m.updated_at, "
    "(SELECT COUNT(*) FROM message_votes v WHERE v.message_id = m.id AND v.value = 1) AS up, "
    "(SELECT COUNT(*) FROM message_votes v WHERE v.message_id = m.id AND v.value = -1) AS down, "
    "COALESCE((SELECT v.value FROM message_votes v WHERE v.message_id = m.id AND v.user_id = ?1), "
    "0) AS mine";

ApiError chat_not_found() { return api_error(Err::chat_not_found, "No such chat"); }
ApiError message_not_found() { return api_error(Err::message_not_found); }

json null_if_empty(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }
json opt_int(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }

// Titles are one line (they head the Markdown export and sit in list views): control characters
// become spaces, whitespace is trimmed, and the rest is cut to kMaxTitleChars code points.
std::string clean_title(std::string_view raw) {
  std::string one_line;
  one_line.reserve(raw.size());
  for (char c : utf8_scrubbed(raw)) {
    auto u = static_cast<unsigned char>(c);
    one_line.push_back(u < 0x20 || u == 0x7f ? ' ' : c);
  }
  size_t b = one_line.find_first_not_of(' ');
  if (b == std::string::npos) return "";
  size_t e = one_line.find_last_not_of(' ');
  std::string t = one_line.substr(b, e - b + 1);
  t.resize(utf8_prefix_chars(t, kMaxTitleChars));
  return t;
}

ApiError bad_cursor() { return field_error("cursor", "not a cursor from this API"); }

ChatRecord chat_from_row(const json& row, std::string_view prefix = "") {
  auto key = [&](std::string_view k) { return std::string(prefix) + std::string(k); };
  ChatRecord c;
  c.id = string_or(row, key("id"), "");
  c.user_id = string_or(row, key("user_id"), "");
  c.title = string_or(row, key("title"), "");
  c.visibility = string_or(row, key("visibility"), "private");
  c.origin = string_or(row, key("origin"), "api");
  c.widget_id = string_or(row, key("widget_id"), "");
  c.memory_stream_id = string_or(row, key("memory_stream_id"), "");
  c.message_count = get_int(row, key("message_count")).value_or(0);
  c.next_seq = get_int(row, key("next_seq")).value_or(1);
  c.created_ms = get_int(row, key("created_at")).value_or(0);
  c.updated_ms = get_int(row, key("updated_at")).value_or(0);
  return c;
}

json json_array_column(const json& row, std::string_view k) {
  if (std::optional<json> v = parse_json(string_or(row, k, ""))) {
    if (v->is_array()) return std::move(*v);
  }
  return json::array();
}

MessageRecord message_from_row(const json& row) {
  MessageRecord m;
  m.id = string_or(row, "id", "");
  m.chat_id = string_or(row, "chat_id", "");
  m.seq = get_int(row, "seq").value_or(0);
  m.role = string_or(row, "role", "");
  m.content = string_or(row, "content", "");
  m.status = string_or(row, "status", "complete");
  m.provider = string_or(row, "provider", "");
  m.model = string_or(row, "model", "");
  m.sources = json_array_column(row, "sources");
  m.citations = json_array_column(row, "citations");
  m.tokens_in = get_int(row, "tokens_in");
  m.tokens_out = get_int(row, "tokens_out");
  m.latency_ms = get_int(row, "latency_ms");
  m.error = string_or(row, "error", "");
  m.reply_to = string_or(row, "reply_to", "");
  m.stream_id = string_or(row, "stream_id", "");
  m.created_ms = get_int(row, "created_at").value_or(0);
  m.updated_ms = get_int(row, "updated_at").value_or(0);
  m.votes_up = get_int(row, "up").value_or(0);
  m.votes_down = get_int(row, "down").value_or(0);
  m.vote = static_cast<int>(get_int(row, "mine").value_or(0));
  return m;
}

// "(c.user_id = ?N OR c.visibility = 'public')" for reads, "c.user_id = ?N" for writes.
std::string access_sql(ChatAccess access, int param) {
  std::string owner = "c.user_id = ?" + std::to_string(param);
  return access == ChatAccess::kRead ? "(" + owner + " OR c.visibility = 'public')" : owner;
}

Stmt recount(std::string chat_id, int64_t now) {
  return Stmt(
      "UPDATE chats SET message_count = (SELECT COUNT(*) FROM messages WHERE chat_id = ?1), "
      "updated_at = ?2 WHERE id = ?1",
      {std::move(chat_id), now});
}

Stmt select_message(std::string user_id, std::string message_id) {
  return Stmt("SELECT " + std::string(kMessageColumns) + " FROM messages m WHERE m.id = ?2",
              {std::move(user_id), std::move(message_id)});
}

}  // namespace

json chat_json(const ChatRecord& c) {
  return {{"id", c.id},
          {"title", c.title},
          {"visibility", c.visibility},
          {"origin", c.origin},
          {"widgetId", null_if_empty(c.widget_id)},
          {"memoryStreamId", null_if_empty(c.memory_stream_id)},
          {"messageCount", c.message_count},
          {"createdAt", iso8601_ms(c.created_ms)},
          {"updatedAt", iso8601_ms(c.updated_ms)}};
}

json message_json(const MessageRecord& m) {
  return {{"id", m.id},
          {"chatId", m.chat_id},
          {"seq", m.seq},
          {"role", m.role},
          {"content", m.content},
          {"status", m.status},
          {"provider", null_if_empty(m.provider)},
          {"model", null_if_empty(m.model)},
          {"sources", m.sources.is_array() ? m.sources : json::array()},
          {"citations", m.citations.is_array() ? m.citations : json::array()},
          {"tokensIn", opt_int(m.tokens_in)},
          {"tokensOut", opt_int(m.tokens_out)},
          {"latencyMs", opt_int(m.latency_ms)},
          {"error", null_if_empty(m.error)},
          {"replyTo", null_if_empty(m.reply_to)},
          {"streamId", null_if_empty(m.stream_id)},
          {"votes",
           {{"up", m.votes_up},
            {"down", m.votes_down},
            {"mine", m.vote > 0   ? json("up")
                     : m.vote < 0 ? json("down")
                                  : json(nullptr)}}},
          {"createdAt", iso8601_ms(m.created_ms)},
          {"updatedAt", iso8601_ms(m.updated_ms)}};
}

Task<Result<ChatRecord>> create_chat(Ctx& ctx, std::string user_id, std::string title,
                                     std::string visibility, std::string origin) {
  ChatRecord c;
  c.id = co_await new_id(ctx, "cht_");
  c.user_id = std::move(user_id);
  c.title = clean_title(title);
  if (c.title.empty()) c.title = "New chat";
  c.visibility = visibility == "public" ? "public" : "private";
  c.origin = origin.empty() ? "api" : std::move(origin);
  c.created_ms = c.updated_ms = static_cast<int64_t>(ctx.now_ms());
  Result<RunMeta> ins = co_await d1_run(
      ctx, Stmt("INSERT INTO chats (id, user_id, title, visibility, origin, created_at, "
                "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                {c.id, null_if_empty(c.user_id), c.title, c.visibility, c.origin, c.created_ms}));
  if (!ins.ok()) co_return ins.take_error();
  co_return c;
}

Task<Result<ChatRecord>> find_chat(Ctx& ctx, std::string user_id, std::string chat_id,
                                   ChatAccess access) {
  // No owner never matches: anonymous widget chats are not reachable through these routes.
  if (user_id.empty() && access == ChatAccess::kWrite) co_return chat_not_found();
  Result<json> row =
      co_await d1_first(ctx, Stmt("SELECT " + std::string(kChatColumns) +
                                      " FROM chats c WHERE c.id = ?2 AND " + access_sql(access, 1),
                                  {user_id, chat_id}));
  if (!row.ok()) co_return row.take_error();
  if (row.value().is_null()) co_return chat_not_found();
  co_return chat_from_row(row.value());
}

Task<Result<ChatPage>> list_chats(Ctx& ctx, std::string user_id, size_t limit, std::string cursor) {
  limit = std::clamp<size_t>(limit, 1, 100);
  json params = json::array({user_id});
  std::string sql = "SELECT " + std::string(kChatColumns) + " FROM chats WHERE user_id = ?1";
  if (!cursor.empty()) {
    std::optional<PageCursor> at = decode_page_cursor(cursor);
    if (!at || at->time_ms < 0) co_return bad_cursor();
    params.push_back(at->time_ms);
    params.push_back(at->id);
    sql += " AND (updated_at < ?2 OR (updated_at = ?2 AND id < ?3))";
  }
  sql += " ORDER BY updated_at DESC, id DESC LIMIT " + std::to_string(limit + 1);
  Result<std::vector<json>> rows = co_await d1_all(ctx, Stmt(sql, params));
  if (!rows.ok()) co_return rows.take_error();
  ChatPage page;
  for (const json& row : rows.value()) page.chats.push_back(chat_from_row(row));
  if (page.chats.size() > limit) {
    page.chats.pop_back();
    page.next_cursor = encode_page_cursor({page.chats.back().updated_ms, page.chats.back().id});
  }
  co_return page;
}

Task<Result<ChatRecord>> update_chat(Ctx& ctx, ChatRecord chat, std::optional<std::string> title,
                                     std::optional<std::string> visibility) {
  if (title) {
    chat.title = clean_title(*title);
    if (chat.title.empty()) chat.title = "New chat";
  }
  if (visibility) chat.visibility = *visibility == "public" ? "public" : "private";
  const int64_t now = static_cast<int64_t>(ctx.now_ms());
  Result<std::vector<BatchItem>> r = co_await d1_batch(
      ctx, {Stmt("UPDATE chats SET title = ?2, visibility = ?3, updated_at = ?4 WHERE id = ?1",
                 {chat.id, chat.title, chat.visibility, now}),
            Stmt("SELECT " + std::string(kChatColumns) + " FROM chats WHERE id = ?1", {chat.id})});
  if (!r.ok()) co_return r.take_error();
  if (r.value()[1].rows.empty()) co_return chat_not_found();
  co_return chat_from_row(r.value()[1].rows[0]);
}

Task<Status> delete_chat(Ctx& ctx, std::string chat_id) {
  // Explicit deletes rather than relying on ON DELETE CASCADE alone, so the outcome does not
  // depend on the connection's foreign_keys setting.
  Result<std::vector<BatchItem>> r =
      co_await d1_batch(ctx, {Stmt("DELETE FROM message_votes WHERE message_id IN "
                                   "(SELECT id FROM messages WHERE chat_id = ?1)",
                                   {chat_id}),
                              Stmt("DELETE FROM messages WHERE chat_id = ?1", {chat_id}),
                              Stmt("DELETE FROM chats WHERE id = ?1", {chat_id})});
  if (!r.ok()) co_return r.take_error();
  co_return ok_status();
}

Task<Result<MessageRecord>> append_message(Ctx& ctx, MessageRecord m) {
  if (m.id.empty()) m.id = co_await new_id(ctx, "msg_");
  const int64_t now = static_cast<int64_t>(ctx.now_ms());
  m.created_ms = m.updated_ms = now;
  auto opt = [](const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); };
  // One transaction: bump the counter, then insert at the value just reserved (next_seq - 1),
  // so two concurrent appends to one chat can never pick the same seq.
  Result<std::vector<BatchItem>> r = co_await d1_batch(
      ctx,
      {Stmt("UPDATE chats SET next_seq = next_seq + 1, message_count = message_count + 1, "
            "updated_at = ?2 WHERE id = ?1",
            {m.chat_id, now}),
       Stmt("INSERT INTO messages (id, chat_id, seq, role, content, status, provider, model, "
            "sources, citations, tokens_in, tokens_out, latency_ms, error, reply_to, stream_id, "
            "created_at, updated_at) SELECT ?1, id, next_seq - 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
            "?10, ?11, ?12, ?13, ?14, ?15, ?15 FROM chats WHERE id = ?16",
            {m.id, m.role, m.content, m.status, null_if_empty(m.provider), null_if_empty(m.model),
             dump_json(m.sources.is_array() ? m.sources : json::array()),
             dump_json(m.citations.is_array() ? m.citations : json::array()), opt(m.tokens_in),
             opt(m.tokens_out), opt(m.latency_ms), null_if_empty(m.error),
             null_if_empty(m.reply_to), null_if_empty(m.stream_id), now, m.chat_id}),
       Stmt("SELECT seq FROM messages WHERE id = ?1", {m.id})});
  if (!r.ok()) co_return r.take_error();
  if (r.value()[2].rows.empty()) co_return chat_not_found();
  m.seq = get_int(r.value()[2].rows[0], "seq").value_or(0);
  m.vote = 0;
  m.votes_up = m.votes_down = 0;
  co_return m;
}

Task<Result<MessagePage>> list_messages(Ctx& ctx, std::string chat_id, std::string for_user,
                                        size_t limit, std::string cursor) {
  limit = std::clamp<size_t>(limit, 1, 200);
  int64_t after_seq = 0;
  if (!cursor.empty()) {
    std::optional<PageCursor> at = decode_page_cursor(cursor);
    if (!at || at->time_ms < 0) co_return bad_cursor();
    after_seq = at->time_ms;
  }
  Result<std::vector<json>> rows = co_await d1_all(
      ctx, Stmt("SELECT " + std::string(kMessageColumns) +
                    " FROM messages m WHERE m.chat_id = ?2 AND m.seq > ?3 ORDER BY m.seq LIMIT " +
                    std::to_string(limit + 1),
                {for_user, chat_id, after_seq}));
  if (!rows.ok()) co_return rows.take_error();
  MessagePage page;
  for (const json& row : rows.value()) page.messages.push_back(message_from_row(row));
  if (page.messages.size() > limit) {
    page.messages.pop_back();
    page.next_cursor = encode_page_cursor({page.messages.back().seq, page.messages.back().id});
  }
  co_return page;
}

Task<Result<std::vector<MessageRecord>>> recent_messages(Ctx& ctx, std::string chat_id,
                                                         size_t max_messages) {
  std::vector<MessageRecord> out;
  if (max_messages == 0) co_return out;
  Result<std::vector<json>> rows = co_await d1_all(
      ctx, Stmt("SELECT " + std::string(kMessageColumns) +
                    " FROM messages m WHERE m.chat_id = ?2 AND m.status IN ('complete', "
                    "'partial') ORDER BY m.seq DESC LIMIT " +
                    std::to_string(std::min<size_t>(max_messages, 1000)),
                {"", chat_id}));
  if (!rows.ok()) co_return rows.take_error();
  for (auto it = rows.value().rbegin(); it != rows.value().rend(); ++it) {
    out.push_back(message_from_row(*it));
  }
  co_return out;
}

Task<Result<OwnedMessage>> find_message(Ctx& ctx, std::string user_id, std::string message_id,
                                        ChatAccess access) {
  if (user_id.empty() && access == ChatAccess::kWrite) co_return message_not_found();
  Result<json> row = co_await d1_first(
      ctx, Stmt("SELECT " + std::string(kMessageColumns) + ", " + std::string(kJoinedChatColumns) +
                    " FROM messages m JOIN chats c ON c.id = m.chat_id WHERE m.id = ?2 AND " +
                    access_sql(access, 1),
                {user_id, message_id}));
  if (!row.ok()) co_return row.take_error();
  if (row.value().is_null()) co_return message_not_found();
  co_return OwnedMessage{chat_from_row(row.value(), "c_"), message_from_row(row.value())};
}

Task<Result<MessageRecord>> edit_user_message(Ctx& ctx, OwnedMessage owned, std::string content) {
  if (owned.message.role != "user") {
    co_return api_error(Err::message_not_editable);
  }
  const int64_t now = static_cast<int64_t>(ctx.now_ms());
  const std::string chat_id = owned.chat.id;
  const int64_t seq = owned.message.seq;
  Result<std::vector<BatchItem>> r = co_await d1_batch(
      ctx, {Stmt("UPDATE messages SET content = ?2, updated_at = ?3 WHERE id = ?1",
                 {owned.message.id, content, now}),
            Stmt("DELETE FROM message_votes WHERE message_id IN "
                 "(SELECT id FROM messages WHERE chat_id = ?1 AND seq > ?2)",
                 {chat_id, seq}),
            Stmt("DELETE FROM messages WHERE chat_id = ?1 AND seq > ?2", {chat_id, seq}),
            recount(chat_id, now), select_message(owned.chat.user_id, owned.message.id)});
  if (!r.ok()) co_return r.take_error();
  if (r.value()[0].changes == 0 || r.value()[4].rows.empty()) co_return message_not_found();
  co_return message_from_row(r.value()[4].rows[0]);
}

Task<Status> delete_message(Ctx& ctx, OwnedMessage owned) {
  const int64_t now = static_cast<int64_t>(ctx.now_ms());
  Result<std::vector<BatchItem>> r = co_await d1_batch(
      ctx, {Stmt("DELETE FROM message_votes WHERE message_id = ?1", {owned.message.id}),
            Stmt("DELETE FROM messages WHERE id = ?1", {owned.message.id}),
            recount(owned.chat.id, now)});
  if (!r.ok()) co_return r.take_error();
  if (r.value()[1].changes == 0) co_return message_not_found();
  co_return ok_status();
}

Task<Result<MessageRecord>> vote_message(Ctx& ctx, std::string user_id, OwnedMessage owned,
                                         int value) {
  if (value != 1 && value != -1) co_return field_error("value", "must be up or down");
  const int64_t now = static_cast<int64_t>(ctx.now_ms());
  // INSERT … SELECT so a message deleted meanwhile simply gets no vote (then 404 below); the
  // WHERE clause also keeps SQLite's parser from reading ON CONFLICT as part of a join.
  Result<std::vector<BatchItem>> r = co_await d1_batch(
      ctx, {Stmt("INSERT INTO message_votes (message_id, user_id, value, created_at, updated_at) "
                 "SELECT id, ?2, ?3, ?4, ?4 FROM messages WHERE id = ?1 "
                 "ON CONFLICT (message_id, user_id) DO UPDATE SET value = excluded.value, "
                 "updated_at = excluded.updated_at",
                 {owned.message.id, user_id, value, now}),
            select_message(user_id, owned.message.id)});
  if (!r.ok()) co_return r.take_error();
  if (r.value()[1].rows.empty()) co_return message_not_found();
  co_return message_from_row(r.value()[1].rows[0]);
}

Task<Result<ChatRecord>> find_or_create_widget_chat(Ctx& ctx, std::string user_id,
                                                    std::string widget_id, std::string session_id) {
  std::string id;
  if (session_id.empty()) {
    id = co_await new_id(ctx, "cht_");
  } else {
    // Same (widget, user, session) → same chat. The user is part of the key so a session id
    // alone never reaches a signed-in user's chat; same shape as a random id (96 bits, hex).
    Digest d = sha256("widget-chat\n" + widget_id + "\n" + user_id + "\n" + session_id);
    id = "cht_" + hex_encode(digest_bytes(d).substr(0, 12));
  }
  const int64_t now = static_cast<int64_t>(ctx.now_ms());
  Result<std::vector<BatchItem>> r = co_await d1_batch(
      ctx, {Stmt("INSERT OR IGNORE INTO chats (id, user_id, title, visibility, origin, widget_id, "
                 "created_at, updated_at) VALUES (?1, ?2, 'Widget chat', 'private', 'widget', ?3, "
                 "?4, ?4)",
                 {id, null_if_empty(user_id), widget_id, now}),
            Stmt("SELECT " + std::string(kChatColumns) + " FROM chats WHERE id = ?1", {id})});
  if (!r.ok()) co_return r.take_error();
  if (r.value()[1].rows.empty()) co_return chat_not_found();
  ChatRecord c = chat_from_row(r.value()[1].rows[0]);
  if (c.origin != "widget" || c.widget_id != widget_id || c.user_id != user_id) {
    co_return api_error(Err::chat_conflict);
  }
  co_return c;
}

}  // namespace ec
