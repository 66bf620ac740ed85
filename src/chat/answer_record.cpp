#include "chat/answer_record.hpp"

#include "bindings/http_fetch.hpp"
#include "chat/chat_store.hpp"
#include "chat/memory.hpp"
#include "chat/training.hpp"
#include "core/time.hpp"
#include "crypto/encoding.hpp"
#include "http/access_log.hpp"

#include <cmath>

namespace ec {

namespace {

constexpr int64_t kLangfuseTimeoutMs = 3000;

json nullable(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

}  // namespace

std::string provider_call_log_line(const Ctx& ctx, const ProviderAttempt& a, int64_t tokens_in,
                                   int64_t tokens_out) {
  const bool ok = a.outcome == "ok";
  json line = {{"level", ok ? "info" : "warn"},
               {"msg", "provider call"},
               {"requestId", ctx.request_id},
               {"provider", a.provider},
               {"model", a.model},
               {"tokensIn", ok ? json(tokens_in) : json(nullptr)},
               {"tokensOut", ok ? json(tokens_out) : json(nullptr)},
               {"latencyMs", std::round(a.latency_ms * 10.0) / 10.0},
               {"outcome", a.outcome}};
  return dump_json(line);
}

json langfuse_batch(const AnswerSpec& spec, const AnswerOutcome& res, std::string_view trace_id,
                    std::string_view event_id_prefix, double now_ms) {
  const int64_t end = static_cast<int64_t>(now_ms);
  const int64_t start = end - static_cast<int64_t>(res.latency_ms);
  const std::string prefix(event_id_prefix);
  json trace = {{"id", std::string(trace_id)},
                {"timestamp", iso8601_ms(start)},
                {"name", spec.route_name.empty() ? "chat" : spec.route_name},
                {"userId", nullable(spec.user_id)},
                {"sessionId", nullable(spec.chat_id)},
                {"input", spec.question},
                {"output", res.text},
                {"metadata", {{"status", res.status}, {"messageId", res.message_id}}}};
  json gen = {{"id", prefix + "-gen"},
              {"traceId", std::string(trace_id)},
              {"name", "llm"},
              {"startTime", iso8601_ms(start)},
              {"endTime", iso8601_ms(end)},
              {"model", res.model},
              {"input", spec.question},
              {"output", res.text},
              {"usage",
               {{"input", res.tokens_in},
                {"output", res.tokens_out},
                {"total", res.tokens_in + res.tokens_out},
                {"unit", "TOKENS"}}},
              {"metadata", {{"provider", res.provider}, {"estimatedUsage", res.tokens_estimated}}},
              {"level", res.status == "complete" ? "DEFAULT" : "ERROR"}};
  if (res.first_token_ms >= 0) {
    gen["completionStartTime"] = iso8601_ms(start + static_cast<int64_t>(res.first_token_ms));
  }
  if (!res.error_code.empty()) gen["statusMessage"] = res.error_code;
  return {{"batch", json::array({{{"id", prefix + "-t"},
                                  {"type", "trace-create"},
                                  {"timestamp", iso8601_ms(end)},
                                  {"body", std::move(trace)}},
                                 {{"id", prefix + "-g"},
                                  {"type", "generation-create"},
                                  {"timestamp", iso8601_ms(end)},
                                  {"body", std::move(gen)}}})}};
}

Task<bool> record_answer(Ctx& ctx, const AnswerSpec& spec, const AnswerOutcome& res) {
  // One log line per provider call, fallbacks included.
  std::vector<Effect> logs;
  for (const ProviderAttempt& a : res.attempts) {
    logs.push_back(make_effect(
        "log.write", {{"line", provider_call_log_line(ctx, a, res.tokens_in, res.tokens_out)}}));
  }
  if (!logs.empty()) {
    std::vector<EffectResult> ignored = co_await ctx.all(std::move(logs));
    (void)ignored;
  }
  // The turn goes into the memory stream and, when opted in, the training set: complete answers
  // only (a partial one would teach or remember a cut-off reply). Failures here are logged by
  // their own effects and never fail the answer.
  if (res.status == "complete" && !spec.memory_id.empty()) {
    Status framed =
        co_await append_turn_frames(ctx, spec.memory_id, spec.chat_id, spec.question, res.text);
    (void)framed;
  }
  if (res.status == "complete" && !spec.user_id.empty() &&
      training_capture_enabled(ctx, spec.record_training)) {
    TrainingExample ex;
    ex.user_id = spec.user_id;
    ex.source = spec.training_source;
    ex.model_used = res.provider + "/" + res.model;
    ex.messages = json::array();
    for (const ChatTurn& t : res.prompt) {
      ex.messages.push_back({{"role", t.role}, {"content", t.content}});
    }
    ex.output = res.text;
    ex.metadata = {
        {"chatId", spec.chat_id}, {"messageId", res.message_id}, {"route", spec.route_name}};
    Status recorded = co_await record_training_example(ctx, std::move(ex));
    (void)recorded;
  }
  if (spec.chat_id.empty()) co_return true;
  MessageRecord m;
  m.id = res.message_id;
  m.chat_id = spec.chat_id;
  m.role = "assistant";
  m.content = res.text;
  m.status = res.status;
  m.provider = res.provider;
  m.model = res.model;
  m.sources = res.sources;
  m.citations = json::array();
  for (int c : res.citations) m.citations.push_back(c);
  if (!res.provider.empty()) {
    m.tokens_in = res.tokens_in;
    m.tokens_out = res.tokens_out;
  }
  m.latency_ms = static_cast<int64_t>(res.latency_ms);
  m.error = res.error_code;
  m.reply_to = spec.reply_to;
  m.stream_id = res.stream_id;
  Result<MessageRecord> stored = co_await append_message(ctx, std::move(m));
  (void)stored;  // a chat deleted meanwhile: nothing to attach the answer to
  co_return true;
}

Task<bool> send_trace(Ctx& ctx, const AnswerSpec& spec, const AnswerOutcome& res) {
  std::string_view pk = ctx.env("LANGFUSE_PUBLIC_KEY", "");
  std::string_view sk = ctx.env("LANGFUSE_SECRET_KEY", "");
  if (pk.empty() || sk.empty()) co_return true;
  std::string base(ctx.env("LANGFUSE_BASE_URL", "https://cloud.langfuse.com"));
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string trace_id = res.message_id.empty() ? ctx.request_id : res.message_id;
  FetchRequest req;
  req.method = "POST";
  req.url = base + "/api/public/ingestion";
  req.headers = {
      {"content-type", "application/json"},
      {"authorization", "Basic " + base64_encode(std::string(pk) + ":" + std::string(sk))}};
  req.body = dump_json(langfuse_batch(spec, res, trace_id, trace_id, ctx.now_ms()));
  Result<UpstreamResponse> up = co_await fetch_start(ctx, std::move(req), kLangfuseTimeoutMs);
  if (!up.ok()) co_return true;
  const int status = up.value().status;
  Status aborted = co_await fetch_abort(ctx, up.value().stream);
  (void)aborted;
  if (status < 200 || status > 299) {
    EffectResult logged = co_await ctx.perform(
        make_effect("log.write", {{"line", dump_json({{"level", "warn"},
                                                      {"msg", "langfuse ingestion failed"},
                                                      {"requestId", ctx.request_id},
                                                      {"status", status}})}}));
    (void)logged;
  }
  co_return true;
}

}  // namespace ec
