// R2 object keys: "{userId}/{docId}/{filename}" (DESIGN §5). The filename comes from the
// uploader, so it is reduced to one safe path segment before it becomes part of a key, and any
// key that arrives from outside (a signed URL, a request body) is checked for ownership with a
// test that inspects every segment rather than trusting a string prefix.
#pragma once

#include "core/error.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace ec {

inline constexpr size_t kMaxFilenameBytes = 200;

// One safe segment from an uploader-supplied name:
//   - directories are stripped at the last '/' or '\' ("C:\x\a.pdf" → "a.pdf");
//   - control characters (C0, DEL, C1), characters Windows forbids (<>:"|?*), '%' (so nothing
//     downstream can percent-decode a ".." into existence) and invisible bidi/line-separator
//     controls (the "gpj.exe" spoof) become '_';
//   - runs of dots collapse to one; leading dots and spaces, trailing dots and spaces go;
//   - letters of every script are kept; the result is at most 200 bytes, cut on a code point
//     boundary and keeping a short extension; an empty result becomes "file".
// Fails (400 files.invalid_filename) only when the input is not valid UTF-8. Idempotent.
Result<std::string> sanitize_filename(std::string_view name);

// "{user_id}/{doc_id}/{safe_filename}". The ids are server-generated (no '/'); the filename must
// come from sanitize_filename.
std::string object_key(std::string_view user_id, std::string_view doc_id,
                       std::string_view safe_filename);

// True iff key is "{user_id}/{doc}/{name}[/…]" where every segment is non-empty, does not start
// with '.', and contains no '\', '%' or control character — so "u1/../u2/x", "u1x/…",
// "u1/%2e%2e/u2/x", "u1/..\u2\x" and "u1//x" are all refused. An unusable user_id (empty or
// itself not a clean segment) owns nothing.
bool key_belongs_to(std::string_view key, std::string_view user_id);

}  // namespace ec
