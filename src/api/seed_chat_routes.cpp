// Seed-compatible chat routes over the answer service:
//   POST /api/chat
//     seed 000 (Metacogna) body {query, sessionId?, provider, model, apiKey?} → JSON
//       {success:true, data:{response, sessionId, messageId, sources, citations, provider, model,
//        usage}}; the session is a chat (created when sessionId is absent).
//     seed 001 (widget) body {message, widgetId?, isEmbedded?, sessionId?} → an SSE stream in
//       edgechat's event format; anonymous callers get answers without documents; embedded
//       conversations are stored as widget chats.
//   GET  /api/chat/history/:id   messages of chat (session) :id: the caller's, or a public one
//   POST /api/si/ask             seed 003's model router: {prompt, provider?, model?, policy?,
//                                maxTokens?, system?} → {text, provider, model, usage}
//   GET  /api/ai/binding         which providers are configured (no secrets)
//   POST /api/ai/test            a tiny prompt through the router, to check a provider works
#include "api/caller.hpp"
#include "api/gateway.hpp"
#include "api/routes.hpp"
#include "auth/service.hpp"
#include "chat/answer_billing.hpp"
#include "chat/chat_turn.hpp"
#include "core/utf8.hpp"
#include "http/stream.hpp"

namespace ec {

namespace {

constexpr ErrorStyle kSeed = ErrorStyle::kSeed000;

// The turn fields both seeds' bodies may carry; parse_turn_request keeps the finer rules (which of
// query/message is the question, byte limits, UTF-8, blank text).
Schema with_turn_fields(std::initializer_list<Field> own) {
  Schema s(own);
  for (Field f :
       {field("provider").string().max(64).nullable(), field("model").string().max(200).nullable(),
        field("policy").one_of({"default", "cheapest", "fastest"}).nullable(),
        field("apiKey").string().max(512).nullable(), field("useDocuments").boolean().nullable(),
        field("maxTokens").integer().length(1, 32768).nullable(),
        field("temperature").number().length(0, 2).nullable()}) {
    s.push_back(std::move(f));
  }
  return s;
}

// Seed 000's {query, sessionId?} or seed 001's {message, widgetId?, isEmbedded?, sessionId?}.
const Schema kChatSchema = with_turn_fields({
    field("query").string().describe("Seed 000: the question (a JSON answer)"),
    field("message").string().describe("Seed 001: the question (an SSE answer)"),
    field("sessionId").string().max(128).nullable(),
    field("widgetId").string().max(128).nullable(),
    field("isEmbedded").boolean().nullable(),
    field("memoryStreamId").string().max(128).nullable(),
    field("documentIds").array().max_items(50).nullable(),
    field("recordTraining").boolean().nullable(),
    field("fallback").boolean().nullable(),
    field("resumable").boolean().nullable(),
});

// {prompt} (or {question} / {message}), routed like a chat turn.
const Schema kAskSchema = with_turn_fields({
    field("prompt").string(),
    field("question").string(),
    field("message").string(),
    field("system").string().nullable(),
});

// {provider?, model?, policy?}: the prompt is fixed.
const Schema kAiTestSchema = with_turn_fields({});

Response seed_ok(int status, json data) {
  return json_reply(status, {{"success", true}, {"data", std::move(data)}});
}

json usage_json(const AnswerOutcome& a) {
  return {{"tokensIn", a.tokens_in},
          {"tokensOut", a.tokens_out},
          {"estimated", a.tokens_estimated},
          {"credits", answer_credits_json(a)}};
}

Task<Result<Response>> seed000_chat(Call& call) {
  // Seed 000's {query} chat is its users'; only seed 001's {message} admits anonymous visitors.
  if (user_if_any(call) == nullptr) {
    co_return api_error(Err::auth_missing_token);
  }
  const User& user = signed_in(call);
  Result<TurnRequest> t = parse_turn_request(call.body, "query");
  if (!t.ok()) co_return t.take_error();
  Result<std::vector<ProviderTarget>> targets = co_await turn_targets(call.ctx, t.value());
  if (!targets.ok()) co_return targets.take_error();
  Result<ChatRecord> chat = api_error(Err::chat_not_found);
  if (const std::string* sid = get_string(call.body, "sessionId"); sid && !sid->empty()) {
    chat = co_await find_chat(call.ctx, user.id, *sid, ChatAccess::kWrite);
  } else {
    chat = co_await create_chat(
        call.ctx, user.id, t.value().content.substr(0, utf8_prefix_bytes(t.value().content, 60)),
        "private", "seed000");
  }
  if (!chat.ok()) co_return chat.take_error();
  MessageRecord q;
  q.chat_id = chat.value().id;
  q.role = "user";
  q.content = t.value().content;
  Result<MessageRecord> stored = co_await append_message(call.ctx, std::move(q));
  if (!stored.ok()) co_return stored.take_error();
  Result<AnswerSpec> spec =
      co_await prepare_turn(call.ctx, user, chat.value(), std::move(t.value()),
                            std::move(targets.value()), stored.value().id, stored.value().seq);
  if (!spec.ok()) co_return spec.take_error();
  spec.value().format = AnswerFormat::kBuffered;
  Result<AnswerOutcome> a = co_await run_answer(call.ctx, std::move(spec.value()));
  if (!a.ok()) co_return a.take_error();
  const AnswerOutcome& o = a.value();
  json cites = json::array();
  for (int c : o.citations) cites.push_back(c);
  Response r = seed_ok(200, {{"response", o.text},
                             {"sessionId", chat.value().id},
                             {"messageId", o.message_id},
                             {"sources", o.sources},
                             {"citations", std::move(cites)},
                             {"provider", o.provider},
                             {"model", o.model},
                             {"status", o.status},
                             {"usage", usage_json(o)}});
  add_answer_billing_headers(r, o);
  co_return r;
}

Task<Result<Response>> seed001_chat(Call& call) {
  const User* visitor = user_if_any(call);
  Result<TurnRequest> t = parse_turn_request(call.body, "message");
  if (!t.ok()) co_return t.take_error();
  Result<std::vector<ProviderTarget>> targets = co_await turn_targets(call.ctx, t.value());
  if (!targets.ok()) co_return targets.take_error();
  User user = visitor != nullptr ? *visitor : User{};
  if (user.id.empty()) t.value().use_documents = false;  // nobody's documents to search
  std::string widget = string_or(call.body, "widgetId", "");
  if (widget.size() > 128) co_return field_error("widgetId", "at most 128 characters");
  std::string session = string_or(call.body, "sessionId", "");
  if (session.size() > 128) co_return field_error("sessionId", "at most 128 characters");
  const bool embedded = get_bool(call.body, "isEmbedded").value_or(false);
  ChatRecord chat;
  std::string reply_to;
  int64_t reply_seq = 1;
  if (embedded) {
    Result<ChatRecord> c = co_await find_or_create_widget_chat(
        call.ctx, user.id, widget.empty() ? "default" : widget, session);
    if (!c.ok()) co_return c.take_error();
    chat = std::move(c.value());
    MessageRecord q;
    q.chat_id = chat.id;
    q.role = "user";
    q.content = t.value().content;
    Result<MessageRecord> stored = co_await append_message(call.ctx, std::move(q));
    if (!stored.ok()) co_return stored.take_error();
    reply_to = stored.value().id;
    reply_seq = stored.value().seq;
  }
  AnswerSpec spec;
  if (embedded) {
    Result<AnswerSpec> prepared =
        co_await prepare_turn(call.ctx, user, chat, std::move(t.value()),
                              std::move(targets.value()), reply_to, reply_seq);
    if (!prepared.ok()) co_return prepared.take_error();
    spec = std::move(prepared.value());
  } else {
    spec.user_id = user.id;
    spec.question = t.value().content;
    spec.use_documents = t.value().use_documents;
    spec.candidates = std::move(targets.value());
    spec.max_tokens = t.value().max_tokens;
    spec.temperature = t.value().temperature;
  }
  spec.route_name = "widget.chat";
  spec.format = AnswerFormat::kEvents;
  spec.resumable = !user.id.empty() && t.value().resumable;
  Result<AnswerOutcome> a = co_await run_answer(call.ctx, std::move(spec));
  if (!a.ok()) co_return a.take_error();
  co_return sse_head();
}

Task<Result<Response>> do_chat(Call& call) {
  if (find(call.body, "query") != nullptr) co_return co_await seed000_chat(call);
  if (find(call.body, "message") != nullptr) co_return co_await seed001_chat(call);
  co_return field_error("query", "send {query} (seed 000) or {message} (seed 001)");
}

Task<Result<Response>> do_history(Call& call) {
  const User& user = signed_in(call);
  const std::string id = *call.param("id");
  Result<ChatRecord> chat = co_await find_chat(call.ctx, user.id, id, ChatAccess::kRead);
  if (!chat.ok()) co_return chat.take_error();
  Result<MessagePage> page = co_await list_messages(call.ctx, chat.value().id, user.id, 200, "");
  if (!page.ok()) co_return page.take_error();
  json messages = json::array();
  for (const MessageRecord& m : page.value().messages) messages.push_back(message_json(m));
  co_return seed_ok(
      200, {{"sessionId", chat.value().id},
            {"messages", std::move(messages)},
            {"nextCursor",
             page.value().next_cursor.empty() ? json(nullptr) : json(page.value().next_cursor)}});
}

// A stateless, buffered answer to one prompt (seed 003's routes): validated like a chat turn,
// routed like one, without documents or history.
Task<Result<AnswerSpec>> one_shot_spec(Ctx& ctx, const User& u, const json& body,
                                       std::string_view field, std::string route) {
  Result<TurnRequest> t = parse_turn_request(body, field);
  if (!t.ok()) co_return t.take_error();
  Result<std::vector<ProviderTarget>> targets = co_await turn_targets(ctx, t.value());
  if (!targets.ok()) co_return targets.take_error();
  AnswerSpec spec;
  spec.user_id = u.id;
  spec.question = t.value().content;
  spec.use_documents = false;
  spec.candidates = std::move(targets.value());
  spec.max_tokens = t.value().max_tokens;
  spec.temperature = t.value().temperature;
  spec.format = AnswerFormat::kBuffered;
  spec.route_name = std::move(route);
  co_return spec;
}

// Seed 003: a one-shot question through the model router; the answer names who gave it.
Task<Result<Response>> do_si_ask(Call& call) {
  const User& user = signed_in(call);
  // The route's field is `prompt` (`question` and `message` are accepted too): a body with none of
  // them is refused naming `prompt`.
  std::string_view field = "prompt";
  if (!find(call.body, "prompt")) {
    if (find(call.body, "question")) {
      field = "question";
    } else if (find(call.body, "message")) {
      field = "message";
    }
  }
  Result<AnswerSpec> spec = co_await one_shot_spec(call.ctx, user, call.body, field, "si.ask");
  if (!spec.ok()) co_return spec.take_error();
  spec.value().use_documents = get_bool(call.body, "useDocuments").value_or(false);
  spec.value().system_prompt = string_or(call.body, "system", "");
  if (spec.value().system_prompt.size() > 16 * 1024) {
    co_return field_error("system", "at most 16 KiB");
  }
  Result<AnswerOutcome> a = co_await run_answer(call.ctx, std::move(spec.value()));
  if (!a.ok()) co_return a.take_error();
  const AnswerOutcome& o = a.value();
  json attempts = json::array();
  for (const ProviderAttempt& at : o.attempts) {
    attempts.push_back({{"provider", at.provider}, {"model", at.model}, {"outcome", at.outcome}});
  }
  Response r = json_reply(200, {{"text", o.text},
                                {"provider", o.provider},
                                {"model", o.model},
                                {"status", o.status},
                                {"usage", usage_json(o)},
                                {"latencyMs", static_cast<int64_t>(o.latency_ms)},
                                {"attempts", std::move(attempts)}});
  add_answer_billing_headers(r, o);
  co_return r;
}

Task<Result<Response>> do_binding(Call& call) {
  ModelTable table = load_model_table(call.ctx);
  json providers = json::array();
  bool ai = false;
  for (const ProviderEndpoint& e : provider_endpoints(call.ctx, "", "")) {
    if (e.provider == "workers-ai") ai = e.available;
    std::string model;
    for (const ModelInfo& m : table.models) {
      if (m.provider == e.provider && (model.empty() || m.is_default)) model = m.model;
    }
    providers.push_back(
        {{"provider", e.provider}, {"available", e.available}, {"defaultModel", model}});
  }
  co_return json_reply(200, {{"binding", ai}, {"providers", std::move(providers)}});
}

Task<Result<Response>> do_ai_test(Call& call) {
  const User& user = signed_in(call);
  json body = call.body.is_object() ? call.body : json::object();
  body["prompt"] = "Reply with the single word: OK";
  body["fallback"] = false;
  Result<AnswerSpec> spec = co_await one_shot_spec(call.ctx, user, body, "prompt", "ai.test");
  if (!spec.ok()) co_return spec.take_error();
  spec.value().max_tokens = 16;
  Result<AnswerOutcome> a = co_await run_answer(call.ctx, std::move(spec.value()));
  if (!a.ok()) {
    const ApiError& e = a.error();
    co_return json_reply(200,
                         {{"ok", false}, {"error", {{"code", e.code}, {"message", e.message}}}});
  }
  Response r = json_reply(200, {{"ok", a.value().status == "complete"},
                                {"provider", a.value().provider},
                                {"model", a.value().model},
                                {"text", a.value().text},
                                {"latencyMs", static_cast<int64_t>(a.value().latency_ms)}});
  add_answer_billing_headers(r, a.value());
  co_return r;
}

}  // namespace

bool add_seed_chat_routes(HttpApp& app) {
  return add_routes(
      app,
      {
          // Seed 001 allows anonymous widget visitors; a present but bad token is still an error.
          post("/api/chat", do_chat)
              .optional_user()
              .rate(kRateAi)
              .json(kChatSchema)
              .styled(kSeed)
              .doc("Ask: {query} answers as JSON (seed 000), {message} as SSE events (seed 001)",
                   {"Seed 000", "Seed 001", "Messages"})
              .answers(200, "Seed000ChatAnswer")
              .answers(200, "ChatEvent", "text/event-stream")
              .errors({"chat.not_found",          "chat.conflict",
                       "chat.unknown_provider",   "chat.provider_unavailable",
                       "chat.unknown_model",      "chat.invalid_model",
                       "chat.unknown_policy",     "chat.bad_provider",
                       "chat.no_provider",        "memory.not_found",
                       "memory.archived",         "credits.insufficient",
                       "provider.error",          "provider.bad_reply",
                       "provider.bad_stream",     "provider.blocked",
                       "upstream.timeout",        "upstream.unreachable",
                       "ai.unavailable",          "ai.bad_reply",
                       "http.stream_unavailable", "storage.unavailable",
                       "storage.conflict",        "storage.value_too_large"}),
          get("/api/chat/history/:id", do_history)
              .user()
              .styled(kSeed)
              .owns("chat")
              .doc("A chat session's messages", {"Seed 001", "Chats"})
              .answers(200, "Seed001History")
              .errors({"chat.not_found", "storage.unavailable"}),
          post("/api/si/ask", do_si_ask)
              .user()
              .rate(kRateAi)
              .json(kAskSchema)
              .doc("Ask a model once, through the model router", {"Seed 003"})
              .answers(200, "Seed003Answer")
              .errors({"chat.unknown_provider", "chat.provider_unavailable", "chat.unknown_model",
                       "chat.invalid_model", "chat.unknown_policy", "chat.bad_provider",
                       "chat.no_provider", "credits.insufficient", "provider.error",
                       "provider.bad_reply", "provider.bad_stream", "provider.blocked",
                       "upstream.timeout", "upstream.unreachable", "ai.unavailable", "ai.bad_reply",
                       "storage.unavailable"}),
          get("/api/ai/binding", do_binding)
              .user()
              .doc("Which providers are configured (no secrets)", {"Seed 003"})
              .answers(200, "Seed003Binding"),
          // A provider's failure is the answer ({ok: false, error}), not an error status.
          post("/api/ai/test", do_ai_test)
              .user()
              .rate(kRateAi)
              .optional_json(kAiTestSchema)
              .doc("Send a tiny prompt through the router to check a provider works", {"Seed 003"})
              .answers(200, "Seed003AiTest")
              .errors({"chat.unknown_provider", "chat.provider_unavailable", "chat.unknown_model",
                       "chat.invalid_model", "chat.unknown_policy", "chat.bad_provider"}),
      });
}

}  // namespace ec
