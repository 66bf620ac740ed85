#include "bindings/ai.hpp"

#include <cmath>
#include <cstring>

namespace ec {

namespace {

ApiError ai_error(const EffectResult& r) {
  if (r.error == EffectError::kInvalid) {
    return api_error(Err::ai_bad_reply, "The AI model rejected the request");
  }
  return api_error(Err::ai_unavailable);
}

uint32_t read_u32le(const std::string& s, size_t pos) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(s[pos + static_cast<size_t>(i)]);
  return v;
}

}  // namespace

Task<Result<EmbedBatch>> ai_embed(Ctx& ctx, std::string model, std::vector<std::string> texts) {
  json list = json::array();
  for (std::string& t : texts) list.push_back(std::move(t));
  const size_t n = list.size();
  EffectResult r =
      co_await ctx.perform(make_effect("ai.embed", {{"model", model}, {"texts", std::move(list)}}));
  if (!r.ok()) co_return ai_error(r);
  // Raw reply: u32 dims, u32 n, then n × dims little-endian float32 (js-shim/effects-ai.js).
  const std::string& d = r.data;
  if (d.size() < 8) co_return api_error(Err::ai_bad_reply, "Malformed embedding reply");
  EmbedBatch out;
  out.dims = read_u32le(d, 0);
  const size_t rows = read_u32le(d, 4);
  if (rows != n || out.dims == 0 || out.dims > 4096 || d.size() != 8 + rows * out.dims * 4) {
    co_return api_error(Err::ai_bad_reply, "Malformed embedding reply");
  }
  out.values.resize(rows * out.dims);
  std::memcpy(out.values.data(), d.data() + 8, out.values.size() * 4);  // wasm32 and x86: LE
  for (float f : out.values) {
    if (!std::isfinite(f)) co_return api_error(Err::ai_bad_reply, "Non-finite embedding");
  }
  co_return out;
}

Task<Result<json>> ai_run(Ctx& ctx, std::string model, json input) {
  EffectResult r =
      co_await ctx.perform(make_effect("ai.run", {{"model", model}, {"input", std::move(input)}}));
  if (!r.ok()) co_return ai_error(r);
  json v = r.as_json();
  if (v.is_discarded()) co_return api_error(Err::ai_bad_reply);
  co_return v;
}

Task<Result<UpstreamResponse>> ai_stream(Ctx& ctx, std::string model, json input) {
  EffectResult r = co_await ctx.perform(
      make_effect("ai.stream", {{"model", model}, {"input", std::move(input)}}));
  if (!r.ok()) co_return ai_error(r);
  json v = r.as_json();
  const std::optional<int64_t> stream = get_int(v, "stream");
  if (!stream || *stream <= 0) co_return api_error(Err::ai_bad_reply, "Malformed AI stream reply");
  UpstreamResponse out;
  out.status = static_cast<int>(get_int(v, "status").value_or(200));
  if (const json* h = get_object(v, "headers")) out.headers = *h;
  out.stream = *stream;
  co_return out;
}

bool is_unavailable(const ApiError& e) { return e.status == 503; }

}  // namespace ec
