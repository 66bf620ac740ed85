#include "bindings/http_fetch.hpp"

namespace ec {

namespace {

ApiError upstream_error(const EffectResult& r) {
  if (r.error == EffectError::kTimeout) {
    return api_error(Err::upstream_timeout);
  }
  return api_error(Err::upstream_unreachable);
}

}  // namespace

Task<Result<UpstreamResponse>> fetch_start(Ctx& ctx, FetchRequest req, int64_t timeout_ms) {
  json headers = json::object();
  for (auto& [k, v] : req.headers) headers[k] = std::move(v);
  EffectResult r = co_await ctx.perform(make_effect("fetch.start", {{"url", req.url},
                                                                    {"method", req.method},
                                                                    {"headers", headers},
                                                                    {"body", req.body},
                                                                    {"timeoutMs", timeout_ms}}));
  if (!r.ok()) co_return upstream_error(r);
  json v = r.as_json();
  UpstreamResponse out;
  out.status = static_cast<int>(get_int(v, "status").value_or(0));
  if (const json* h = get_object(v, "headers")) out.headers = *h;
  out.stream = get_int(v, "stream").value_or(0);
  co_return out;
}

Task<Result<std::string>> fetch_read(Ctx& ctx, int64_t stream) {
  EffectResult r = co_await ctx.perform(make_effect("fetch.read", {{"stream", stream}}));
  if (!r.ok()) co_return upstream_error(r);
  co_return std::move(r.data);
}

Task<Status> fetch_abort(Ctx& ctx, int64_t stream) {
  EffectResult r = co_await ctx.perform(make_effect("fetch.abort", {{"stream", stream}}));
  if (!r.ok()) co_return upstream_error(r);
  co_return ok_status();
}

}  // namespace ec
