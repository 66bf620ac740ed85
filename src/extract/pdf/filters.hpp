// The stream filters that are cheap enough to run in the core (ISO 32000-1 §7.4). FlateDecode
// itself is an effect ("zlib.inflate"), so the platform's native inflater does the heavy work;
// the PNG predictors that often follow it (xref streams) are undone here.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ec {

std::optional<std::string> pdf_ascii_hex_decode(std::string_view in);
std::optional<std::string> pdf_ascii85_decode(std::string_view in);

// Undoes PNG predictors (Predictor >= 10: each row starts with its own filter type byte).
// Predictor 1 (none) returns the input; TIFF (2) and malformed parameters give nullopt.
std::optional<std::string> pdf_undo_predictor(std::string_view in, int predictor, int colors,
                                              int bits_per_component, int columns);

}  // namespace ec
