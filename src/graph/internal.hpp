// Helpers shared by the local graph extractor (graph/extract.cpp) and the LLM reply parser
// (graph/llm.cpp). Not part of the public interface: see graph/extract.hpp.
#pragma once

#include <string>
#include <string_view>

namespace ec::graph_detail {

// Case-insensitive identity of a name (simple lower-casing of ASCII, Latin-1, Latin Extended-A,
// Greek and Cyrillic); invalid UTF-8 bytes are kept as they are.
std::string fold_key(std::string_view s);

// Whitespace and control-character runs collapsed to one space, none leading or trailing.
std::string collapse_ws(std::string_view s);

}  // namespace ec::graph_detail
