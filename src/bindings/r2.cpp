#include "bindings/r2.hpp"

#include "crypto/encoding.hpp"

#include <algorithm>

namespace ec {

namespace {

ApiError r2_error(const EffectResult& r) {
  switch (r.error) {
    case EffectError::kNotFound:
      return api_error(Err::files_not_found);
    case EffectError::kTooLarge:
      return api_error(Err::files_too_large);
    case EffectError::kInvalid:
      return api_error(Err::files_bad_upload);
    default:
      return api_error(Err::storage_unavailable, "File storage is unavailable; try again");
  }
}

void add_options(json& args, const R2PutOptions& opt) {
  if (!opt.content_type.empty()) args["contentType"] = opt.content_type;
  if (opt.custom_metadata.is_object()) args["customMetadata"] = opt.custom_metadata;
}

R2Object object_from(const json& v) {
  R2Object o;
  o.key = string_or(v, "key", "");
  o.size = get_int(v, "size").value_or(0);
  o.etag = string_or(v, "etag", "");
  o.content_type = string_or(v, "contentType", "");
  if (const json* m = get_object(v, "customMetadata")) o.custom_metadata = *m;
  o.uploaded_ms = get_int(v, "uploaded").value_or(0);
  return o;
}

}  // namespace

Task<Result<R2Object>> r2_put(Ctx& ctx, std::string key, std::string bytes, R2PutOptions opt) {
  json args = {{"key", key}, {"data", base64url_encode(bytes)}};
  add_options(args, opt);
  EffectResult r = co_await ctx.perform(make_effect("r2.put", args));
  if (!r.ok()) co_return r2_error(r);
  co_return object_from(r.as_json());
}

Task<Result<R2Object>> r2_put_request_body(Ctx& ctx, std::string key, int64_t max_bytes,
                                           R2PutOptions opt) {
  json args = {{"key", key}, {"max", max_bytes}};
  add_options(args, opt);
  EffectResult r = co_await ctx.perform(make_effect("r2.put_body", args));
  if (!r.ok()) co_return r2_error(r);
  co_return object_from(r.as_json());
}

Task<Result<R2Object>> r2_put_form_file(Ctx& ctx, std::string key, int64_t max_bytes,
                                        std::string field, R2PutOptions opt) {
  json args = {{"key", key}, {"max", max_bytes}, {"form", field}};
  add_options(args, opt);
  EffectResult r = co_await ctx.perform(make_effect("r2.put_body", args));
  if (!r.ok()) co_return r2_error(r);
  co_return object_from(r.as_json());
}

Task<Result<std::string>> r2_get(Ctx& ctx, std::string key, int64_t max_bytes,
                                 std::optional<std::pair<int64_t, int64_t>> range) {
  json args = {{"key", key}, {"max", max_bytes}};
  if (range) args["range"] = {{"offset", range->first}, {"length", range->second}};
  EffectResult r = co_await ctx.perform(make_effect("r2.get", args));
  if (!r.ok()) co_return r2_error(r);
  co_return std::move(r.data);
}

Task<Result<std::optional<R2Object>>> r2_head(Ctx& ctx, std::string key) {
  EffectResult r = co_await ctx.perform(make_effect("r2.head", {{"key", key}}));
  if (!r.ok()) co_return r2_error(r);
  json v = r.as_json();
  if (v.is_null()) co_return std::optional<R2Object>();
  co_return std::optional<R2Object>(object_from(v));
}

Task<Status> r2_delete(Ctx& ctx, std::vector<std::string> keys) {
  json list = json::array();
  for (std::string& k : keys) list.push_back(std::move(k));
  EffectResult r = co_await ctx.perform(make_effect("r2.delete", {{"keys", list}}));
  if (!r.ok()) co_return r2_error(r);
  co_return ok_status();
}

Task<Result<R2ListPage>> r2_list(Ctx& ctx, std::string prefix, std::string cursor, int64_t limit) {
  json args = {{"prefix", prefix}, {"limit", std::clamp<int64_t>(limit, 1, 1000)}};
  if (!cursor.empty()) args["cursor"] = cursor;
  EffectResult r = co_await ctx.perform(make_effect("r2.list", args));
  if (!r.ok()) co_return r2_error(r);
  json v = r.as_json();
  R2ListPage page;
  if (const json* objects = get_array(v, "objects")) {
    for (const json& o : *objects) page.objects.push_back(object_from(o));
  }
  page.cursor = string_or(v, "cursor", "");
  co_return page;
}

}  // namespace ec
