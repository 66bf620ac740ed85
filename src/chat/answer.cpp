#include "chat/answer.hpp"

#include "chat/answer_billing.hpp"

#include "bindings/d1.hpp"
#include "chat/answer_record.hpp"
#include "chat/chat_events.hpp"
#include "core/env.hpp"
#include "core/time.hpp"
#include "crypto/random_id.hpp"
#include "http/stream.hpp"
#include "rag/search.hpp"

namespace ec {

namespace {

constexpr int64_t kDefaultResumeGraceMs = 10'000;
constexpr int64_t kStreamTtlMs = int64_t{24} * 3600 * 1000;

// Retrieval for the question: hybrid search over the user's documents. A failure leaves the
// answer without sources rather than failing the chat (the log line says why).
Task<std::pair<std::vector<PromptSource>, json>> retrieve(Ctx& ctx, const AnswerSpec& spec) {
  std::pair<std::vector<PromptSource>, json> out{{}, json::array()};
  if (!spec.use_documents || spec.user_id.empty() || spec.question.empty()) co_return out;
  SearchRequest req;
  req.query = spec.question.substr(0, 2000);
  req.top_k = spec.top_k;
  req.mode = SearchMode::kHybrid;
  req.document_ids = spec.document_ids;
  Result<SearchResult> found = co_await search_chunks(ctx, spec.user_id, std::move(req));
  if (!found.ok()) co_return out;
  for (const SearchHit& h : found.value().hits) {
    PromptSource s;
    s.number = static_cast<int>(out.first.size()) + 1;
    s.document_id = h.document_id;
    s.title = h.title;
    s.text = h.text;
    if (h.heading_path.is_array()) {
      for (const json& p : h.heading_path) {
        if (p.is_string()) s.heading_path.push_back(p.get<std::string>());
      }
    }
    out.first.push_back(std::move(s));
    out.second.push_back({{"chunkIndex", h.chunk_index},
                          {"snippet", h.snippet},
                          {"score", h.score},
                          {"headingPath", h.heading_path}});
  }
  co_return out;
}

PromptPlan plan_for(const AnswerSpec& spec, const std::vector<PromptSource>& sources,
                    const ProviderTarget& t) {
  PromptInput in;
  if (!spec.system_prompt.empty()) {
    in.system_prompt = spec.system_prompt;
  } else if (!spec.use_documents) {
    in.system_prompt = std::string(kDefaultChatSystemPrompt);
  }
  in.retrieval = spec.use_documents;
  in.sources = sources;
  in.history = spec.history;
  in.question = spec.question;
  in.memory_summary = spec.memory_summary;
  in.context_window_tokens = t.context_window;
  in.max_output_tokens = spec.max_tokens > 0
                             ? std::min<size_t>(static_cast<size_t>(spec.max_tokens), t.max_output)
                             : t.max_output;
  return build_prompt(in);
}

ChatRequest request_for(const PromptPlan& plan, const ProviderTarget& t, const AnswerSpec& spec) {
  ChatRequest req;
  req.model = t.model;
  for (const ChatTurn& m : plan.messages) {
    req.messages.push_back({parse_chat_role(m.role).value_or(ChatRole::user), m.content});
  }
  req.max_tokens = static_cast<int>(plan.max_output_tokens);
  req.temperature = spec.temperature;
  req.stream = true;
  return req;
}

// Where events go: the client (unless it left) and the resumable log (when there is one).
struct Outlet {
  AnswerFormat format = AnswerFormat::kEvents;
  bool client = false;  // a response stream is open and the client is still there
  std::string log;      // stream log name ("" = none)
  int64_t log_length = 0;
  int64_t followers = 0;
  double gone_at_ms = -1;
  int64_t next_id = 1;
  std::vector<std::string> pending;

  void event(std::string_view name, const json& data) {
    if (format == AnswerFormat::kEvents) pending.push_back(chat_event(name, next_id++, data));
  }
  // The per-chunk event, built without a JSON value.
  void delta(std::string_view text) {
    if (format == AnswerFormat::kEvents) pending.push_back(chat_delta_event(next_id++, text));
  }
  void raw(std::string bytes) {
    if (format == AnswerFormat::kOpenAiChunks) pending.push_back(std::move(bytes));
  }
};

// Adds the outlet's pending writes to `effects`; returns {write index, append index} (-1 = none).
std::pair<int, int> queue_writes(Outlet& out, std::vector<Effect>& effects) {
  std::pair<int, int> idx{-1, -1};
  if (out.pending.empty()) return idx;
  if (out.client) {
    std::string bytes;
    for (const std::string& e : out.pending) bytes += e;
    idx.first = static_cast<int>(effects.size());
    effects.push_back(Effect{"stream.write", std::move(bytes)});
  }
  if (!out.log.empty()) {
    // Built by hand: this runs once per upstream chunk (bench section 8).
    std::string args = "{\"name\":";
    append_json_string(args, out.log);
    args += ",\"from\":" + std::to_string(out.log_length) + ",\"chunks\":[";
    for (size_t i = 0; i < out.pending.size(); ++i) {
      if (i > 0) args += ',';
      append_json_string(args, out.pending[i]);
    }
    args += "]}";
    idx.second = static_cast<int>(effects.size());
    effects.push_back(Effect{"streamlog.append", std::move(args)});
  }
  out.pending.clear();
  return idx;
}

void note_writes(Ctx& ctx, Outlet& out, std::pair<int, int> idx,
                 const std::vector<EffectResult>& results, size_t appended) {
  if (idx.first >= 0 && !results[static_cast<size_t>(idx.first)].ok()) {
    out.client = false;
    out.gone_at_ms = ctx.now_ms();
  }
  if (idx.second >= 0) {
    const EffectResult& r = results[static_cast<size_t>(idx.second)];
    if (r.ok()) {
      json v = r.as_json();
      out.log_length =
          get_int(v, "length").value_or(out.log_length + static_cast<int64_t>(appended));
      out.followers = get_int(v, "followers").value_or(0);
      if (auto now = get_number(v, "now")) ctx.advance_clock(*now);
    } else {
      out.log.clear();  // the log is unusable: stop teeing; the live client is unaffected
      out.followers = 0;
    }
  }
}

// Flushes pending writes on their own (no upstream read to overlap with).
Task<bool> flush(Ctx& ctx, Outlet& out) {
  std::vector<Effect> effects;
  const size_t n = out.pending.size();
  std::pair<int, int> idx = queue_writes(out, effects);
  if (effects.empty()) co_return true;
  std::vector<EffectResult> results = co_await ctx.all(std::move(effects));
  note_writes(ctx, out, idx, results, n);
  co_return true;
}

// Whether generation should go on after the client left: only for a log someone may resume.
bool keep_generating(Ctx& ctx, const Outlet& out, int64_t grace_ms) {
  if (out.client) return true;
  if (out.format == AnswerFormat::kBuffered) return true;
  if (out.log.empty()) return false;
  return out.followers > 0 || ctx.now_ms() - out.gone_at_ms < static_cast<double>(grace_ms);
}

json attempts_json(const std::vector<ProviderAttempt>& attempts) {
  json a = json::array();
  for (const ProviderAttempt& t : attempts) {
    a.push_back({{"provider", t.provider},
                 {"model", t.model},
                 {"outcome", t.outcome},
                 {"latencyMs", static_cast<int64_t>(t.latency_ms)}});
  }
  return a;
}

}  // namespace

json sources_json(const std::vector<PromptSource>& used, const json& extra_by_n) {
  json out = json::array();
  for (const PromptSource& s : used) {
    json e = {{"n", s.number}, {"documentId", s.document_id}, {"title", s.title}};
    const size_t i = static_cast<size_t>(s.number - 1);
    if (extra_by_n.is_array() && i < extra_by_n.size()) {
      for (const auto& [k, v] : extra_by_n[i].items()) e[k] = v;
    }
    out.push_back(std::move(e));
  }
  return out;
}

Task<Result<AnswerOutcome>> run_answer(Ctx& ctx, AnswerSpec spec) {
  AnswerOutcome res;
  const double started = ctx.now_ms();
  if (spec.candidates.empty()) co_return api_error(Err::chat_no_provider);
  res.message_id = co_await new_id(ctx, "msg_");

  auto [sources, source_extra] = co_await retrieve(ctx, spec);
  PromptPlan plan = plan_for(spec, sources, spec.candidates.front());
  res.sources = sources_json(plan.sources_used, source_extra);

  // Credits: the worst case over the candidates is reserved before any provider is called.
  CreditHold hold;
  if (!spec.user_id.empty()) {
    int64_t worst = 0;
    for (size_t ci = 0; ci < spec.candidates.size(); ++ci) {
      const ProviderTarget& t = spec.candidates[ci];
      if (t.price_in_per_1k <= 0 && t.price_out_per_1k <= 0) continue;
      const PromptPlan p = ci == 0 ? plan : plan_for(spec, sources, t);
      worst = std::max(worst, worst_case_cost(t, p.tokens_estimated, p.max_output_tokens));
    }
    Result<CreditHold> h = co_await reserve_credits(ctx, spec.user_id, worst);
    if (!h.ok()) co_return h.take_error();
    hold = std::move(h.value());
    res.metered = true;
    res.credits_reserved = hold.amount;
    res.credits_balance = hold.balance;
  }

  Outlet out;
  out.format = spec.format;
  const bool streamed = spec.format != AnswerFormat::kBuffered;
  if (streamed) {
    // One round: the response head goes out while the stream's row and log are created.
    Response head = sse_head();
    add_stream_billing_headers(head, spec.candidates.front(), res);
    std::vector<Effect> effects{open_stream_effect(ctx, std::move(head))};
    if (spec.format == AnswerFormat::kEvents && spec.resumable && !spec.user_id.empty()) {
      res.stream_id = co_await new_id(ctx, "str_");
      const int64_t now = static_cast<int64_t>(ctx.now_ms());
      effects.push_back(stmt_effect(
          "d1.run", Stmt{"INSERT INTO streams (id, user_id, kind, chat_id, message_id, state, "
                         "created_at, updated_at, expires_at) VALUES (?, ?, 'generation', ?, ?, "
                         "'open', ?, ?, ?)",
                         {res.stream_id, spec.user_id, spec.chat_id, res.message_id, now, now,
                          now + kStreamTtlMs}}));
      effects.push_back(make_effect("streamlog.create",
                                    {{"name", "s:" + res.stream_id}, {"ttlMs", kStreamTtlMs}}));
    }
    std::vector<EffectResult> done = co_await ctx.all(std::move(effects));
    if (!done[0].ok()) {
      co_return api_error(Err::http_stream_unavailable);
    }
    if (done.size() == 3 && done[1].ok() && done[2].ok()) {
      out.log = "s:" + res.stream_id;
    } else {
      res.stream_id.clear();  // not resumable this time; the answer itself is unaffected
    }
    out.client = true;
    out.event("start", {{"chatId", spec.chat_id.empty() ? json(nullptr) : json(spec.chat_id)},
                        {"messageId", res.message_id},
                        {"replyTo", spec.reply_to.empty() ? json(nullptr) : json(spec.reply_to)},
                        {"streamId", res.stream_id.empty() ? json(nullptr) : json(res.stream_id)},
                        {"createdAt", iso8601_ms(static_cast<int64_t>(started))}});
    out.event("sources", {{"sources", res.sources}});
    co_await flush(ctx, out);
  }

  const int64_t grace_ms = env_count(ctx, "RESUME_GRACE_MS", kDefaultResumeGraceMs);
  CollectedAnswer got;
  bool any_text = false;
  ApiError last_error = api_error(Err::provider_error, "No provider could answer");
  OpenAiChunkHead oa{spec.openai_id, static_cast<int64_t>(started / 1000), ""};

  for (size_t ci = 0; ci < spec.candidates.size() && !any_text; ++ci) {
    const ProviderTarget& target = spec.candidates[ci];
    if (ci > 0) plan = plan_for(spec, sources, target);  // a smaller window keeps a prefix
    const double t0 = ctx.now_ms();
    Result<ProviderStream> opened = co_await open_provider_stream(
        ctx, target, request_for(plan, target, spec), spec.question, plan.sources_used);
    if (!opened.ok()) {
      last_error = opened.error();
      res.attempts.push_back({target.provider, target.model, last_error.code, ctx.now_ms() - t0});
      continue;
    }
    ProviderStream stream = std::move(opened.value());
    oa.model = target.model;
    got = CollectedAnswer{};
    bool stop = false;
    bool early_error = false;  // failed before its first token: the next candidate may answer
    std::string abort_reason;
    while (!stop) {
      std::vector<StreamPiece> pieces;
      // One round: pending writes, overlapped with the next upstream read.
      std::vector<Effect> effects;
      const size_t n_pending = out.pending.size();
      std::pair<int, int> idx = queue_writes(out, effects);
      int read_idx = -1;
      if (!stream.is_local() && !stream.ended()) {
        read_idx = static_cast<int>(effects.size());
        effects.push_back(
            Effect{"fetch.read", "{\"stream\":" + std::to_string(stream.upstream()) + "}"});
      }
      if (!effects.empty()) {
        std::vector<EffectResult> results = co_await ctx.all(std::move(effects));
        note_writes(ctx, out, idx, results, n_pending);
        if (read_idx >= 0) {
          const EffectResult& r = results[static_cast<size_t>(read_idx)];
          if (r.ok()) {
            pieces = stream.feed(r.data);
          } else {
            stream.mark_ended();
            pieces.push_back(error_piece(r.error == EffectError::kTimeout
                                             ? Err::upstream_timeout
                                             : Err::upstream_unreachable,
                                         r.message));
          }
        }
      }
      if (stream.is_local()) pieces = stream.next_local();
      if (!keep_generating(ctx, out, grace_ms)) {
        abort_reason = code_of(Err::http_client_gone);
        break;
      }
      for (StreamPiece& p : pieces) {
        if (p.kind == PieceKind::error && !any_text) {
          early_error = true;
          last_error = api_error(p.error, "The provider failed");
          last_error.detail = p.error_message;
          break;
        }
        collect_piece(got, p);
        if (p.kind == PieceKind::error) break;  // after text: keep it, marked partial
        if (p.kind != PieceKind::delta) continue;
        if (!any_text) res.first_token_ms = ctx.now_ms() - started;
        if (spec.format == AnswerFormat::kOpenAiChunks) {
          out.raw(openai_delta_chunk(oa, p.text, !any_text));
        } else {
          out.delta(p.text);
        }
        any_text = true;
      }
      stop = early_error || !got.error_code.empty() || stream.ended();
    }
    if (!stream.is_local() && !stream.ended()) {
      EffectResult aborted =
          co_await ctx.perform(make_effect("fetch.abort", {{"stream", stream.upstream()}}));
      (void)aborted;
    }
    res.attempts.push_back({target.provider, target.model,
                            !abort_reason.empty()    ? abort_reason
                            : early_error            ? last_error.code
                            : got.error_code.empty() ? std::string("ok")
                                                     : got.error_code,
                            ctx.now_ms() - t0});
    if (early_error) continue;
    res.provider = target.provider;
    res.model = target.model;
    res.client_gone = !abort_reason.empty();
    res.prompt = plan.messages;
    break;
  }

  res.text = got.text;
  res.finish_reason = got.finish_reason.empty() ? "stop" : got.finish_reason;
  if (res.provider.empty() && !res.client_gone) {
    // Nobody answered.
    res.status = "error";
    res.error_code = last_error.code;
    res.error_message = last_error.message;
  } else if (res.client_gone) {
    res.status = "partial";
    res.error_code = code_of(Err::http_client_gone);
    res.error_message = "The client disconnected";
  } else if (!got.error_code.empty()) {
    res.status = "partial";
    res.error_code = got.error_code;
    res.error_message = "The provider failed mid-answer";
  }
  if (!res.provider.empty()) {
    res.tokens_estimated = got.tokens_in < 0 || got.tokens_out < 0;
    res.tokens_in =
        got.tokens_in >= 0 ? got.tokens_in : static_cast<int64_t>(plan.tokens_estimated);
    res.tokens_out =
        got.tokens_out >= 0 ? got.tokens_out : static_cast<int64_t>(estimate_tokens(res.text));
  }
  res.citations = extract_citations(res.text, static_cast<int>(plan.sources_used.size()));
  res.latency_ms = ctx.now_ms() - started;

  if (res.metered) co_await settle_answer(ctx, spec, std::move(hold), res);
  if (!streamed && res.status == "error") {
    co_await record_answer(ctx, spec, res);
    co_return last_error;  // a catalog error: its status is already 4xx/5xx
  }

  // Store, log and trace before the final event, so a client that sees `done` finds the message.
  co_await record_answer(ctx, spec, res);

  if (spec.format == AnswerFormat::kEvents) {
    out.event("usage", {{"tokensIn", res.tokens_in},
                        {"tokensOut", res.tokens_out},
                        {"provider", res.provider.empty() ? json(nullptr) : json(res.provider)},
                        {"model", res.model.empty() ? json(nullptr) : json(res.model)},
                        {"estimated", res.tokens_estimated},
                        {"credits", answer_credits_json(res)}});
    json cites = json::array();
    for (int c : res.citations) cites.push_back(c);
    if (res.status == "complete") {
      out.event("done", {{"messageId", res.message_id},
                         {"status", res.status},
                         {"provider", res.provider},
                         {"model", res.model},
                         {"finishReason", res.finish_reason},
                         {"citations", std::move(cites)},
                         {"attempts", attempts_json(res.attempts)}});
    } else {
      out.event("error", {{"code", res.error_code},
                          {"message", res.error_message},
                          {"partial", !res.text.empty()},
                          {"messageId", res.message_id},
                          {"attempts", attempts_json(res.attempts)}});
    }
  } else if (spec.format == AnswerFormat::kOpenAiChunks) {
    if (res.status == "error" || (res.status == "partial" && !res.client_gone)) {
      out.raw(openai_error_chunk(res.error_code, res.error_message));
    } else {
      out.raw(openai_finish_chunk(oa, res.finish_reason));
      if (spec.openai_include_usage) out.raw(openai_usage_chunk(oa, res.tokens_in, res.tokens_out));
    }
    out.raw(std::string(kOpenAiDoneLine));
  }
  if (streamed) {
    co_await flush(ctx, out);
    if (!out.log.empty()) {
      EffectResult closed =
          co_await ctx.perform(make_effect("streamlog.close", {{"name", out.log}}));
      (void)closed;
    }
    if (!res.stream_id.empty()) {
      Result<RunMeta> upd = co_await d1_run(
          ctx, Stmt{"UPDATE streams SET state = 'closed', updated_at = ? WHERE id = ?",
                    {static_cast<int64_t>(ctx.now_ms()), res.stream_id}});
      (void)upd;
    }
  }
  co_await send_trace(ctx, spec, res);
  co_return res;
}

}  // namespace ec
