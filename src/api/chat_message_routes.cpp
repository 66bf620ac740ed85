// The routes that generate: POST /api/v1/chats/:id/messages (ask; answered as an SSE stream) and
// PATCH /api/v1/messages/:id (edit a question: later messages are dropped and the answer
// regenerated on a new stream). The event format is in chat/chat_events.hpp.
#include "api/caller.hpp"
#include "api/gateway.hpp"
#include "api/routes.hpp"
#include "auth/service.hpp"
#include "chat/chat_turn.hpp"
#include "core/utf8.hpp"
#include "http/stream.hpp"

namespace ec {

namespace {

constexpr std::string_view kDefaultTitle = "New chat";

// The turn's top-level fields; parse_turn_request keeps the finer rules (byte limits, UTF-8, a
// blank question, document id shapes).
const Schema kTurnSchema = {
    field("content").string().required().min(1).describe("The question"),
    field("provider").string().max(64).nullable(),
    field("model").string().max(200).nullable(),
    field("policy").one_of({"default", "cheapest", "fastest"}).nullable(),
    field("apiKey").string().max(512).nullable().describe("Your own key for the provider"),
    field("memoryStreamId").string().max(128).nullable(),
    field("useDocuments").boolean().nullable(),
    field("recordTraining").boolean().nullable(),
    field("fallback").boolean().nullable(),
    field("resumable").boolean().nullable(),
    field("documentIds").array().max_items(50).nullable(),
    field("maxTokens").integer().length(1, 32768).nullable(),
    field("temperature").number().length(0, 2).nullable(),
};

// What a streamed turn can answer before its stream starts (after that, failures are `error`
// events): both routes' .errors, beside their own not-found codes.
constexpr std::string_view kStreamedTurnErrors[] = {
    "chat.unknown_provider", "chat.provider_unavailable", "chat.unknown_model",
    "chat.invalid_model",    "chat.unknown_policy",       "chat.bad_provider",
    "chat.no_provider",      "memory.not_found",          "memory.archived",
    "credits.insufficient",  "http.stream_unavailable",   "storage.unavailable",
    "storage.conflict",      "storage.value_too_large",
};

// A first question names an untitled chat: its first line, cut at a word near 60 characters.
std::string title_from(std::string_view q) {
  q = q.substr(0, q.find('\n'));
  while (!q.empty() && q.front() == ' ') q.remove_prefix(1);
  if (q.size() <= 60) return std::string(q);
  size_t cut = utf8_prefix_bytes(q, 60);
  const size_t space = q.substr(0, cut).rfind(' ');
  if (space != std::string_view::npos && space > 30) cut = space;
  return std::string(q.substr(0, cut)) + "\xE2\x80\xA6";  // "…"
}

Task<Result<Response>> answer_turn(Ctx& ctx, const User& user, ChatRecord chat, TurnRequest t,
                                   std::vector<ProviderTarget> targets,
                                   const MessageRecord& question) {
  if (chat.title == kDefaultTitle && question.seq <= 1) {
    Result<ChatRecord> titled =
        co_await update_chat(ctx, chat, title_from(question.content), std::nullopt);
    if (titled.ok()) chat = std::move(titled.value());
  }
  Result<AnswerSpec> spec = co_await prepare_turn(ctx, user, chat, std::move(t), std::move(targets),
                                                  question.id, question.seq);
  if (!spec.ok()) co_return spec.take_error();
  spec.value().format = AnswerFormat::kEvents;
  Result<AnswerOutcome> done = co_await run_answer(ctx, std::move(spec.value()));
  if (!done.ok()) co_return done.take_error();
  co_return sse_head();
}

Task<Result<Response>> do_ask(Call& call) {
  const User& user = signed_in(call);
  Result<TurnRequest> t = parse_turn_request(call.body);
  if (!t.ok()) co_return t.take_error();
  Result<ChatRecord> chat =
      co_await find_chat(call.ctx, user.id, *call.param("id"), ChatAccess::kWrite);
  if (!chat.ok()) co_return chat.take_error();
  // Choose providers before storing anything: an unknown or unconfigured provider is a 400 that
  // leaves the chat unchanged.
  Result<std::vector<ProviderTarget>> targets = co_await turn_targets(call.ctx, t.value());
  if (!targets.ok()) co_return targets.take_error();
  MessageRecord q;
  q.chat_id = chat.value().id;
  q.role = "user";
  q.content = t.value().content;
  Result<MessageRecord> stored = co_await append_message(call.ctx, std::move(q));
  if (!stored.ok()) co_return stored.take_error();
  co_return co_await answer_turn(call.ctx, user, std::move(chat.value()), std::move(t.value()),
                                 std::move(targets.value()), stored.value());
}

Task<Result<Response>> do_edit(Call& call) {
  const User& user = signed_in(call);
  Result<TurnRequest> t = parse_turn_request(call.body);
  if (!t.ok()) co_return t.take_error();
  Result<OwnedMessage> owned =
      co_await find_message(call.ctx, user.id, *call.param("id"), ChatAccess::kWrite);
  if (!owned.ok()) co_return owned.take_error();
  Result<std::vector<ProviderTarget>> targets = co_await turn_targets(call.ctx, t.value());
  if (!targets.ok()) co_return targets.take_error();
  ChatRecord chat = owned.value().chat;
  Result<MessageRecord> edited =
      co_await edit_user_message(call.ctx, std::move(owned.value()), t.value().content);
  if (!edited.ok()) co_return edited.take_error();
  co_return co_await answer_turn(call.ctx, user, std::move(chat), std::move(t.value()),
                                 std::move(targets.value()), edited.value());
}

}  // namespace

bool add_chat_message_routes(HttpApp& app) {
  return add_routes(
      app,
      {
          post("/api/v1/chats/:id/messages", do_ask)
              .user()
              .rate(kRateAi)
              .json(kTurnSchema)
              .owns("chat")
              .doc("Ask a question: the answer streams as SSE events", {"Messages"})
              .answers(200, "ChatEvent", "text/event-stream")
              .errors({"chat.not_found"})
              .errors(kStreamedTurnErrors),
          patch("/api/v1/messages/:id", do_edit)
              .user()
              .rate(kRateAi)
              .json(kTurnSchema)
              .owns("message")
              .doc("Edit a question: later messages are dropped and the answer regenerated (SSE)",
                   {"Messages"})
              .answers(200, "ChatEvent", "text/event-stream")
              .errors({"message.not_found", "message.not_editable"})
              .errors(kStreamedTurnErrors),
      });
}

}  // namespace ec
