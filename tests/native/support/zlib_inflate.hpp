// What the shim's zlib.inflate effect does (DecompressionStream("deflate") read up to `max`),
// for native tests: the FakeHost answers the effect with it, and the PDF tests drive the
// extractor with it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ec::testing {

struct Inflated {
  std::optional<std::string> bytes;  // nullopt when corrupt or too large
  bool too_large = false;
};

Inflated zlib_inflate(std::string_view in, size_t max);

}  // namespace ec::testing
