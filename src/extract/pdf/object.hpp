// The PDF object model (ISO 32000-1 §7.3) as one plain struct: a tagged value whose dictionaries
// keep keys and values in parallel vectors. Parsing untrusted files must never throw, and a
// variant of recursive containers would need heap indirection anyway; this stays flat and cheap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ec {

struct PdfObj {
  enum class Kind : uint8_t { kNull, kBool, kInt, kReal, kString, kName, kArray, kDict, kRef };
  Kind kind = Kind::kNull;
  bool boolean = false;
  int64_t integer = 0;  // kInt; for kRef the object number
  double real = 0;      // kReal
  uint32_t gen = 0;     // kRef
  std::string str;      // kString bytes (escapes decoded) or kName (without '/', #xx decoded)
  std::vector<std::string> keys;  // kDict: keys[i] names items[i]
  std::vector<PdfObj> items;      // kArray elements, kDict values

  bool is_null() const { return kind == Kind::kNull; }
  bool is_int() const { return kind == Kind::kInt; }
  bool is_number() const { return kind == Kind::kInt || kind == Kind::kReal; }
  bool is_string() const { return kind == Kind::kString; }
  bool is_name() const { return kind == Kind::kName; }
  bool is_name(std::string_view n) const { return kind == Kind::kName && str == n; }
  bool is_array() const { return kind == Kind::kArray; }
  bool is_dict() const { return kind == Kind::kDict; }
  bool is_ref() const { return kind == Kind::kRef; }
  double number() const {
    if (kind == Kind::kInt) return static_cast<double>(integer);
    return kind == Kind::kReal ? real : 0.0;
  }
  uint32_t ref_num() const { return static_cast<uint32_t>(integer); }

  // Dictionary lookup; null when absent or when this is not a dictionary.
  const PdfObj* get(std::string_view key) const {
    if (kind != Kind::kDict) return nullptr;
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == key) return &items[i];
    }
    return nullptr;
  }
};

// An indirect object as found in the file: its value and, for streams, where the raw (still
// encoded) data lies. Stream data is kept as a view into the caller's buffer or an object stream.
struct PdfIndirect {
  PdfObj value;
  bool is_stream = false;
  std::string_view raw;  // stream data before any filter
};

}  // namespace ec
