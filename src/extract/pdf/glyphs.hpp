// Glyph names and single-byte encodings (ISO 32000-1 Annex D) mapped to Unicode, for simple
// fonts without a /ToUnicode CMap.
#pragma once

#include <cstdint>
#include <string_view>

namespace ec {

// Code → Unicode (0 = undefined) for "WinAnsiEncoding", "MacRomanEncoding", "StandardEncoding";
// nullptr for any other name.
const uint16_t* pdf_encoding_table(std::string_view name);

// An Adobe glyph name ("eacute", "uni00E9", "u1F600", "a.sc") → code point, 0 if unknown.
uint32_t pdf_glyph_to_unicode(std::string_view name);

}  // namespace ec
