// HTTP Range requests (RFC 9110 §14) for downloads: one byte range per request. Several ranges
// would need a multipart/byteranges body; serving the whole representation instead is explicitly
// allowed (§14.2: a server MAY ignore Range), so that is what happens.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ec {

struct ByteRange {
  int64_t offset = 0;
  int64_t length = 0;  // > 0
};

struct RangeDecision {
  enum Kind { kFull, kPartial, kUnsatisfiable } kind = kFull;
  ByteRange range;  // kPartial: the bytes to send
};

// header: the Range value or nullptr; size: the representation's length. A missing, malformed,
// multi-range or non-"bytes" header means kFull; a well-formed single range outside the
// representation is kUnsatisfiable (answer 416 with "Content-Range: bytes */size").
RangeDecision decide_range(const std::string* header, int64_t size);

// "bytes first-last/size"
std::string content_range(const ByteRange& r, int64_t size);

// Content-Disposition for a download: always "attachment" (so a stored HTML or SVG file can never
// run as a page of this origin), with an ASCII fallback filename and the exact UTF-8 name in
// RFC 8187 form: attachment; filename="a_b.pdf"; filename*=UTF-8''a%C3%A9b.pdf
std::string attachment_disposition(std::string_view filename);

}  // namespace ec
