// R2 as typed calls (binding BUCKET). Objects live under {userId}/{docId}/{filename}
// (src/files/object_key.hpp builds and checks those keys). Large uploads never pass through the
// core: r2_put_request_body asks the shim to stream the request body into R2.
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <optional>
#include <string>
#include <vector>

namespace ec {

struct R2Object {
  std::string key;
  int64_t size = 0;
  std::string etag;
  std::string content_type;  // empty when unknown
  json custom_metadata = json::object();
  int64_t uploaded_ms = 0;
};

struct R2PutOptions {
  std::string content_type;
  json custom_metadata = nullptr;  // object of string values, or null
};

Task<Result<R2Object>> r2_put(Ctx& ctx, std::string key, std::string bytes, R2PutOptions opt);
// Streams the incoming request's body into `key`; 413 "files.too_large" past max_bytes.
Task<Result<R2Object>> r2_put_request_body(Ctx& ctx, std::string key, int64_t max_bytes,
                                           R2PutOptions opt);
// Puts the file part of a multipart body (read_form) into `key`, straight from the shim.
Task<Result<R2Object>> r2_put_form_file(Ctx& ctx, std::string key, int64_t max_bytes,
                                        std::string field, R2PutOptions opt);
// The whole object (≤ max_bytes, else 413) or a byte range; 404 "files.not_found" when missing.
Task<Result<std::string>> r2_get(Ctx& ctx, std::string key, int64_t max_bytes,
                                 std::optional<std::pair<int64_t, int64_t>> range = std::nullopt);
Task<Result<std::optional<R2Object>>> r2_head(Ctx& ctx, std::string key);
Task<Status> r2_delete(Ctx& ctx, std::vector<std::string> keys);

// One page of a listing (key, size, uploaded_ms per object), in key order. cursor: empty for the
// first page; the page's own cursor is empty when the listing is complete. limit ≤ 1000 (R2).
struct R2ListPage {
  std::vector<R2Object> objects;
  std::string cursor;
};
Task<Result<R2ListPage>> r2_list(Ctx& ctx, std::string prefix, std::string cursor, int64_t limit);

}  // namespace ec
