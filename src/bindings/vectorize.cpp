#include "bindings/vectorize.hpp"

#include <algorithm>

namespace ec {

namespace {

ApiError vectorize_error(const EffectResult& r) {
  if (r.error == EffectError::kInvalid) {
    return api_error(Err::vectors_rejected);
  }
  return api_error(Err::vectors_unavailable);
}

json float_array(const float* v, size_t n) {
  json a = json::array();
  for (size_t i = 0; i < n; ++i) a.push_back(static_cast<double>(v[i]));
  return a;
}

}  // namespace

// The caller batches (records.size() ≤ kVectorizeUpsertBatch); the effect is one upsert call.
Task<Status> vectorize_upsert(Ctx& ctx, const std::vector<VectorRecord>& records) {
  json list = json::array();
  for (const VectorRecord& rec : records) {
    list.push_back({{"id", rec.id},
                    {"values", float_array(rec.values, rec.dims)},
                    {"namespace", rec.ns},
                    {"metadata", rec.metadata}});
  }
  EffectResult r = co_await ctx.perform(make_effect("vectorize.upsert", {{"vectors", list}}));
  if (!r.ok()) co_return vectorize_error(r);
  co_return ok_status();
}

Task<Result<std::vector<VectorMatch>>> vectorize_query(Ctx& ctx, std::vector<float> query,
                                                       size_t top_k, std::string ns) {
  json args = {{"vector", float_array(query.data(), query.size())},
               {"topK", std::min(top_k, kVectorizeMaxTopK)},
               {"namespace", ns},
               {"returnMetadata", "none"}};
  EffectResult r = co_await ctx.perform(make_effect("vectorize.query", args));
  if (!r.ok()) co_return vectorize_error(r);
  json v = r.as_json();
  std::vector<VectorMatch> out;
  if (const json* m = get_array(v, "matches")) {
    for (const json& item : *m) {
      const std::string* id = get_string(item, "id");
      std::optional<double> score = get_number(item, "score");
      if (id && score) out.push_back({*id, static_cast<float>(*score)});
    }
  }
  co_return out;
}

Task<Status> vectorize_delete(Ctx& ctx, std::vector<std::string> ids) {
  json list = json::array();
  for (std::string& id : ids) list.push_back(std::move(id));
  EffectResult r = co_await ctx.perform(make_effect("vectorize.delete", {{"ids", list}}));
  if (!r.ok()) co_return vectorize_error(r);
  co_return ok_status();
}

}  // namespace ec
