// Files in R2: upload (raw body or multipart), metadata, ranged download, delete, and the
// presigned-URL grants of seed 000. D1's `files` table is the index of what each user owns; R2
// holds the bytes under {userId}/{fileId}/{filename}. Every lookup is by (user, id), so another
// user's file is indistinguishable from a missing one (404).
#pragma once

#include "auth/users.hpp"
#include "core/context.hpp"
#include "core/envelope.hpp"
#include "core/error.hpp"
#include "core/task.hpp"
#include "core/time.hpp"
#include "files/presign.hpp"
#include "http/reply.hpp"

#include <optional>
#include <string>
#include <vector>

namespace ec {

struct FileRecord {
  std::string id;
  std::string user_id;
  std::string r2_key;
  std::string filename;
  std::string content_type;
  int64_t size = 0;
  std::string etag;
  std::string route;
  std::string state;  // pending | stored
  int64_t created_ms = 0;
};

// Times are ISO 8601 unless a seed route asks for its own format.
json file_json(const FileRecord& f, TimeFormat times = TimeFormat::kIso8601);

struct UploadPolicy {
  int64_t max_bytes = int64_t{25} << 20;   // MAX_UPLOAD_BYTES
  std::vector<std::string> allowed_types;  // ALLOWED_UPLOAD_TYPES (comma-separated), lower-case
};
UploadPolicy upload_policy(const Ctx& ctx);

// The media type without parameters, lower-cased, if the policy allows it; else 415.
Result<std::string> check_upload_type(const UploadPolicy& p, std::string_view content_type);

// Reads the request's upload — multipart/form-data (field "file") or a raw body whose
// Content-Type is the file's type and whose name comes from ?filename= or X-Filename — into R2 and
// records it. Refuses a declared Content-Length over the limit before reading (413), streams with
// the same limit, 415 for other types. `route` is recorded in D1 and in the R2 metadata.
Task<Result<FileRecord>> upload_file(Ctx& ctx, User user, std::string route,
                                     std::optional<std::string> filename_hint);

// The user's file, or 404 "files.not_found" (also for another user's file).
Task<Result<FileRecord>> find_file(Ctx& ctx, std::string user_id, std::string file_id);
Task<Result<FileRecord>> find_file_by_key(Ctx& ctx, std::string user_id, std::string key);

// The object's bytes as a streamed response (honours Range; 416 when unsatisfiable).
// `style`: the route's error shape, for the 416 it answers itself (it carries Content-Range).
Task<Result<Response>> download_file(Ctx& ctx, FileRecord f,
                                     ErrorStyle style = ErrorStyle::kCanonical);

// Removes the R2 object and the D1 row, and unlinks documents that pointed at it.
Task<Status> delete_file(Ctx& ctx, FileRecord f);

// Reads a stored file whole (for extraction), at most max_bytes.
Task<Result<std::string>> read_file_bytes(Ctx& ctx, const FileRecord& f, int64_t max_bytes);

// Forgets the cached generated secret (core_init: a new environment may mean another database).
void reset_presign_secret_cache();

// Worker-signed URLs: the HMAC key is PRESIGN_SECRET, or one generated on first use and kept in
// D1 (generated_secrets) so every isolate signs with the same key.
Task<Result<std::string>> presign_secret(Ctx& ctx);
// Absolute base for URLs handed to clients: PUBLIC_BASE_URL. When it is unset, a loopback Host
// (localhost, 127.x.x.x, [::1], so `npm start` works offline) gives http://{Host} with a warn log
// line on each use; any other Host is refused with 500 config.public_base_url_missing.
Task<Result<std::string>> presign_base_url(Ctx& ctx);
// SigV4 presigned URL for R2's S3 endpoint when R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY and
// R2_ACCOUNT_ID are set (bucket R2_BUCKET_NAME, default "edgechat-files"); nullopt otherwise.
std::optional<std::string> s3_presigned_url(const Ctx& ctx, std::string_view method,
                                            std::string_view key, int64_t expires_s);

// Presigned upload (seed 000 /api/r2/upload-url): records a pending file and returns its grant.
struct UploadGrant {
  FileRecord file;
  PresignGrant grant;
};
Task<Result<UploadGrant>> create_upload_grant(Ctx& ctx, User user, std::string filename,
                                              std::string content_type, int64_t max_bytes,
                                              int64_t ttl_s);
// Completes a presigned upload: streams the body into the granted key, once.
Task<Result<FileRecord>> complete_signed_upload(Ctx& ctx, PresignGrant grant);

}  // namespace ec
