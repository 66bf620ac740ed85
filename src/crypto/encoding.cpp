#include "crypto/encoding.hpp"

#include <array>
#include <cstdint>

namespace ec {

namespace {

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kBase64UrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kHexDigits = "0123456789abcdef";

constexpr int8_t kInvalid = -1;

// Reverse lookup tables built at compile time, so decoding is one table load per character and
// there is no branchy range test to get wrong.
using DecodeTable = std::array<int8_t, 256>;

constexpr DecodeTable make_table(std::string_view alphabet) {
  DecodeTable table{};
  for (auto& entry : table) entry = kInvalid;
  for (size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}

constexpr DecodeTable kBase64Table = make_table(kBase64Alphabet);
constexpr DecodeTable kBase64UrlTable = make_table(kBase64UrlAlphabet);

constexpr DecodeTable make_hex_table() {
  DecodeTable table = make_table(kHexDigits);
  for (int i = 0; i < 6; ++i) table['A' + i] = static_cast<int8_t>(10 + i);
  return table;
}

constexpr DecodeTable kHexTable = make_hex_table();

inline uint8_t byte_at(std::string_view s, size_t i) { return static_cast<uint8_t>(s[i]); }

std::string encode_base64(std::string_view bytes, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (uint32_t{byte_at(bytes, i)} << 16) | (uint32_t{byte_at(bytes, i + 1)} << 8) |
                 uint32_t{byte_at(bytes, i + 2)};
    out.push_back(alphabet[(v >> 18) & 0x3f]);
    out.push_back(alphabet[(v >> 12) & 0x3f]);
    out.push_back(alphabet[(v >> 6) & 0x3f]);
    out.push_back(alphabet[v & 0x3f]);
  }
  size_t rest = bytes.size() - i;
  if (rest == 0) return out;
  uint32_t v = uint32_t{byte_at(bytes, i)} << 16;
  if (rest == 2) v |= uint32_t{byte_at(bytes, i + 1)} << 8;
  out.push_back(alphabet[(v >> 18) & 0x3f]);
  out.push_back(alphabet[(v >> 12) & 0x3f]);
  if (rest == 2) out.push_back(alphabet[(v >> 6) & 0x3f]);
  if (pad) out.append(rest == 1 ? "==" : "=");
  return out;
}

// Decodes unpadded text (the caller has already removed and validated any padding).
std::optional<std::string> decode_base64(std::string_view text, const DecodeTable& table) {
  // 4n+1 characters carry 6 bits past a byte boundary: no encoder produces that.
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  size_t i = 0;
  for (; i + 4 <= text.size(); i += 4) {
    int32_t a = table[byte_at(text, i)], b = table[byte_at(text, i + 1)];
    int32_t c = table[byte_at(text, i + 2)], d = table[byte_at(text, i + 3)];
    // Any invalid entry is -1, so one OR detects all four.
    if ((a | b | c | d) < 0) return std::nullopt;
    uint32_t v = (static_cast<uint32_t>(a) << 18) | (static_cast<uint32_t>(b) << 12) |
                 (static_cast<uint32_t>(c) << 6) | static_cast<uint32_t>(d);
    out.push_back(static_cast<char>(v >> 16));
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v));
  }
  size_t rest = text.size() - i;
  if (rest == 0) return out;

  int32_t a = table[byte_at(text, i)], b = table[byte_at(text, i + 1)];
  int32_t c = rest == 3 ? table[byte_at(text, i + 2)] : 0;
  if ((a | b | c) < 0) return std::nullopt;
  uint32_t v = (static_cast<uint32_t>(a) << 18) | (static_cast<uint32_t>(b) << 12) |
               (static_cast<uint32_t>(c) << 6);
  // Canonical form: the bits below the last whole byte must be zero (RFC 4648 §3.5), otherwise
  // "QQ" and "QR" would both decode to "A".
  uint32_t leftover = rest == 2 ? (v & 0xffff) : (v & 0xff);
  if (leftover != 0) return std::nullopt;
  out.push_back(static_cast<char>(v >> 16));
  if (rest == 3) out.push_back(static_cast<char>(v >> 8));
  return out;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  return encode_base64(bytes, kBase64Alphabet, /*pad=*/true);
}

std::optional<std::string> base64_decode(std::string_view text) {
  size_t padding = 0;
  while (padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  if (padding == 0) return decode_base64(text, kBase64Table);
  // Padded input must be whole quads with at most "==", and the padding must be exactly what the
  // data length implies ("QQ==" yes, "QQ=" or "QUI==" no).
  if (padding > 2 || text.size() % 4 != 0) return std::nullopt;
  std::string_view data = text.substr(0, text.size() - padding);
  if ((data.size() % 4) + padding != 4) return std::nullopt;
  return decode_base64(data, kBase64Table);
}

std::string base64url_encode(std::string_view bytes) {
  return encode_base64(bytes, kBase64UrlAlphabet, /*pad=*/false);
}

std::optional<std::string> base64url_decode(std::string_view text) {
  // '=' is not in the url table, so padding is rejected like any other foreign character.
  return decode_base64(text, kBase64UrlTable);
}

std::string hex_encode(std::string_view bytes) {
  std::string out;
  out.resize(bytes.size() * 2);
  for (size_t i = 0; i < bytes.size(); ++i) {
    uint8_t b = byte_at(bytes, i);
    out[2 * i] = kHexDigits[b >> 4];
    out[2 * i + 1] = kHexDigits[b & 0x0f];
  }
  return out;
}

std::optional<std::string> hex_decode(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.resize(text.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int32_t hi = kHexTable[byte_at(text, 2 * i)];
    int32_t lo = kHexTable[byte_at(text, 2 * i + 1)];
    if ((hi | lo) < 0) return std::nullopt;
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

}  // namespace ec
