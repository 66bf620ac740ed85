// multipart/form-data request bodies, parsed by the platform (Response.formData in the shim) rather
// than in the core: the file part can then go straight to R2 (r2_put_form_file) without ever
// entering Wasm memory. The core sees the text fields and the file part's declared name, type and
// size, and decides everything from those.
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <optional>
#include <string>

namespace ec {

struct FormFile {
  std::string field;     // the form field it came from
  std::string filename;  // as the client sent it (sanitise before use)
  std::string content_type;
  int64_t size = 0;
};

struct FormData {
  json fields = json::object();  // text fields: name → first value
  std::optional<FormFile> file;  // the first file part named `file_field`
};

// Reads the body (at most max_bytes, else 413 "files.too_large"); 400 "files.bad_upload" when it
// is not valid multipart.
Task<Result<FormData>> read_form(Ctx& ctx, int64_t max_bytes, std::string file_field);

}  // namespace ec
