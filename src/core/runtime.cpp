#include "core/runtime.hpp"

#include "core/frame.hpp"
#include "core/header_check.hpp"

namespace ec {

namespace {

std::optional<std::vector<EffectResult>> decode_results(std::string_view frame, double* now_ms) {
  FrameReader r(frame);
  auto now = r.f64();
  auto n = r.u32();
  if (!now || !n || *n > 4096) return std::nullopt;
  *now_ms = *now;
  std::vector<EffectResult> out;
  out.reserve(*n);
  for (uint32_t i = 0; i < *n; ++i) {
    auto ok = r.u8();
    if (!ok) return std::nullopt;
    EffectResult res;
    if (*ok == 1) {
      auto data = r.str();
      if (!data) return std::nullopt;
      res.data = std::string(*data);
    } else {
      auto code = r.str();
      auto msg = r.str();
      if (!code || !msg) return std::nullopt;
      res.error = effect_error_from_code(*code);
      if (res.error == EffectError::kNone) res.error = EffectError::kInternal;
      res.message = std::string(*msg);
    }
    out.push_back(std::move(res));
  }
  if (!r.at_end()) return std::nullopt;
  return out;
}

}  // namespace

Response runtime_error_response(Err e) {
  const ErrorInfo& info = error_info(e);
  Response r;
  r.status = info.status;
  r.headers.emplace_back("content-type", "application/json; charset=utf-8");
  json body = {{"error", {{"code", info.code}, {"message", info.message}}}, {"requestId", nullptr}};
  r.body = dump_json(body);
  json log = {{"level", "error"}, {"msg", "runtime"}, {"status", info.status}, {"code", info.code}};
  r.log_line = dump_json(log);
  return r;
}

bool Runtime::init(std::string_view env_json) {
  auto parsed = parse_json(env_json, 4);
  if (!parsed || !parsed->is_object()) return false;
  env_.clear();
  for (auto it = parsed->begin(); it != parsed->end(); ++it) {
    if (it.value().is_string()) env_[it.key()] = *it.value().get_ptr<const std::string*>();
  }
  return true;
}

std::string_view Runtime::start(std::string_view envelope) {
  auto env = decode_envelope(envelope);
  if (!env) {
    return respond(0, runtime_error_response(Err::request_malformed_envelope));
  }
  uint32_t id = next_id_++;
  if (next_id_ == 0) next_id_ = 1;  // 0 means "no session" in frames
  Session s;
  s.ctx = std::make_unique<Ctx>(id, std::move(*env), env_);
  s.task = entry_(*s.ctx);
  auto [it, inserted] = sessions_.emplace(id, std::move(s));
  (void)inserted;
  return drive(id, it->second, it->second.task.handle());
}

std::string_view Runtime::resume(uint32_t id, std::string_view results) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) {
    return respond(0, runtime_error_response(Err::runtime_unknown_session));
  }
  Session& s = it->second;
  double now_ms = 0;
  auto decoded = decode_results(results, &now_ms);
  if (!decoded || decoded->size() != s.ctx->expected_results()) {
    sessions_.erase(it);
    return respond(id, runtime_error_response(Err::runtime_malformed_results));
  }
  s.ctx->advance_clock(now_ms);
  coro::coroutine_handle<> h = s.ctx->deliver(std::move(*decoded));
  return drive(id, s, h);
}

void Runtime::cancel(uint32_t id) { sessions_.erase(id); }

std::string_view Runtime::drive(uint32_t id, Session& s, coro::coroutine_handle<> h) {
  if (h) h.resume();
  if (s.task.done()) {
    Response r = s.task.take();
    sessions_.erase(id);
    return respond(id, std::move(r));
  }
  if (!s.ctx->has_pending()) {
    // Suspended on something other than an effect: a bug in the core, never the client's fault.
    sessions_.erase(id);
    return respond(id, runtime_error_response(Err::runtime_stalled));
  }
  std::vector<Effect> effects = s.ctx->take_pending();
  s.ctx->note_expected(effects.size());
  FrameWriter w;
  w.buffer().swap(out_);
  w.buffer().clear();
  w.u8(static_cast<uint8_t>(FrameKind::kEffects));
  w.u32(id);
  w.u32(static_cast<uint32_t>(effects.size()));
  for (const Effect& e : effects) {
    w.str(e.op);
    w.str(e.payload);
  }
  out_ = w.take();
  return out_;
}

std::string_view Runtime::respond(uint32_t id, Response r) {
  note_dropped_headers(r.log_line, drop_invalid_headers(r.headers));
  FrameWriter w;
  w.buffer().swap(out_);
  w.buffer().clear();
  w.u8(static_cast<uint8_t>(FrameKind::kResponse));
  w.u32(id);
  w.u32(static_cast<uint32_t>(r.status));
  w.u32(static_cast<uint32_t>(r.headers.size()));
  for (const auto& [k, v] : r.headers) {
    w.str(k);
    w.str(v);
  }
  w.str(r.body);
  w.str(r.log_line);
  // Streamed body: the R2 key ("" = none), then offset and length as two u32 halves each.
  w.str(r.r2_body ? r.r2_body->key : std::string());
  const uint64_t off = r.r2_body ? static_cast<uint64_t>(r.r2_body->offset) : 0;
  const uint64_t len = r.r2_body ? static_cast<uint64_t>(r.r2_body->length) : 0;
  w.u32(static_cast<uint32_t>(off));
  w.u32(static_cast<uint32_t>(off >> 32));
  w.u32(static_cast<uint32_t>(len));
  w.u32(static_cast<uint32_t>(len >> 32));
  // Followed stream log: its name ("" = none), then `after` as a u32 (event ids are positions).
  w.str(r.log_follow ? r.log_follow->name : std::string());
  w.u32(r.log_follow ? static_cast<uint32_t>(r.log_follow->after) : 0);
  out_ = w.take();
  return out_;
}

}  // namespace ec
