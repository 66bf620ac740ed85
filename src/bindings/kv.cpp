#include "bindings/kv.hpp"

namespace ec {

Task<std::optional<std::string>> kv_get(Ctx& ctx, std::string key) {
  EffectResult r = co_await ctx.perform(make_effect("kv.get", {{"key", key}}));
  if (!r.ok()) co_return std::nullopt;
  json v = r.as_json();
  if (!v.is_string()) co_return std::nullopt;
  co_return *v.get_ptr<const std::string*>();
}

Task<bool> kv_put(Ctx& ctx, std::string key, std::string value, int64_t ttl_s) {
  json args = {{"key", key}, {"value", value}};
  if (ttl_s > 0) args["ttl"] = ttl_s < 60 ? 60 : ttl_s;
  EffectResult r = co_await ctx.perform(make_effect("kv.put", args));
  co_return r.ok();
}

Task<bool> kv_delete(Ctx& ctx, std::string key) {
  EffectResult r = co_await ctx.perform(make_effect("kv.delete", {{"key", key}}));
  co_return r.ok();
}

}  // namespace ec
