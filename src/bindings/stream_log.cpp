#include "bindings/stream_log.hpp"

namespace ec {

namespace {

ApiError stream_log_error(const EffectResult& r) {
  switch (r.error) {
    case EffectError::kConflict:
      return api_error(Err::streams_conflict);
    case EffectError::kCancelled:
      return api_error(Err::streams_closed);
    case EffectError::kTooLarge:
      return api_error(Err::streams_too_large);
    case EffectError::kNotFound:
      return api_error(Err::streams_not_found);
    case EffectError::kInvalid:
      // The core sent arguments the shim refused: a bug here, not the client's.
      return api_error(Err::streams_invalid);
    default:
      return api_error(Err::streams_unavailable);
  }
}

ApiError malformed() { return api_error(Err::streams_unavailable); }

StreamLogState state_from(const json& v) {
  StreamLogState s;
  s.exists = get_bool(v, "exists").value_or(false);
  s.created = get_bool(v, "created").value_or(false);
  s.length = get_int(v, "length").value_or(0);
  s.closed = get_bool(v, "closed").value_or(false);
  s.followers = get_int(v, "followers").value_or(0);
  s.created_at_ms = get_int(v, "createdAt").value_or(0);
  return s;
}

}  // namespace

Task<Result<StreamLogState>> streamlog_create(Ctx& ctx, std::string name, int64_t ttl_ms) {
  json args = {{"name", name}};
  if (ttl_ms > 0) args["ttlMs"] = ttl_ms;
  EffectResult r = co_await ctx.perform(make_effect("streamlog.create", args));
  if (!r.ok()) co_return stream_log_error(r);
  json v = r.as_json();
  if (!v.is_object()) co_return malformed();
  co_return state_from(v);
}

Task<Result<StreamLogAppended>> streamlog_append(Ctx& ctx, std::string name, int64_t from,
                                                 std::vector<std::string> chunks) {
  json list = json::array();
  for (std::string& c : chunks) list.push_back(std::move(c));
  json args = {{"name", name}, {"from", from}, {"chunks", std::move(list)}};
  EffectResult r = co_await ctx.perform(make_effect("streamlog.append", args));
  if (!r.ok()) co_return stream_log_error(r);
  json v = r.as_json();
  std::optional<int64_t> length = get_int(v, "length");
  if (!length) co_return malformed();
  StreamLogAppended a;
  a.length = *length;
  a.followers = get_int(v, "followers").value_or(0);
  a.now_ms = get_int(v, "now").value_or(0);
  co_return a;
}

Task<Result<StreamLogState>> streamlog_info(Ctx& ctx, std::string name) {
  EffectResult r = co_await ctx.perform(make_effect("streamlog.info", {{"name", name}}));
  if (!r.ok()) co_return stream_log_error(r);
  json v = r.as_json();
  if (!v.is_object()) co_return malformed();
  co_return state_from(v);
}

Task<Result<int64_t>> streamlog_close(Ctx& ctx, std::string name) {
  EffectResult r = co_await ctx.perform(make_effect("streamlog.close", {{"name", name}}));
  if (!r.ok()) co_return stream_log_error(r);
  std::optional<int64_t> length = get_int(r.as_json(), "length");
  if (!length) co_return malformed();
  co_return *length;
}

Task<Status> streamlog_delete(Ctx& ctx, std::string name) {
  EffectResult r = co_await ctx.perform(make_effect("streamlog.delete", {{"name", name}}));
  if (!r.ok()) co_return stream_log_error(r);
  co_return ok_status();
}

}  // namespace ec
