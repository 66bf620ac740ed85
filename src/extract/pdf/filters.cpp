#include "extract/pdf/filters.hpp"

#include <cstdint>
#include <cstdlib>

namespace ec {

std::optional<std::string> pdf_ascii_hex_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size() / 2);
  int hi = -1;
  for (char c : in) {
    if (c == '>') break;
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (v < 0) {
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\0') continue;
      return std::nullopt;
    }
    if (hi < 0) {
      hi = v;
    } else {
      out += static_cast<char>(hi * 16 + v);
      hi = -1;
    }
  }
  if (hi >= 0) out += static_cast<char>(hi * 16);
  return out;
}

std::optional<std::string> pdf_ascii85_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size() * 4 / 5 + 4);
  uint32_t group[5];
  int n = 0;
  auto flush = [&](int count) {
    // A partial group of k chars is padded with 'u' (84) and yields k-1 bytes.
    for (int i = count; i < 5; ++i) group[i] = 84;
    uint64_t v = 0;
    for (int i = 0; i < 5; ++i) v = v * 85 + group[i];
    if (v > 0xffffffffULL) return false;
    for (int i = 0; i < count - 1; ++i) out += static_cast<char>((v >> (24 - 8 * i)) & 0xff);
    return true;
  };
  size_t i = 0;
  if (in.substr(0, 2) == "<~") i = 2;
  for (; i < in.size(); ++i) {
    char c = in[i];
    if (c == '~') break;  // "~>" ends the data
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\0') continue;
    if (c == 'z' && n == 0) {
      out.append(4, '\0');
      continue;
    }
    if (c < '!' || c > 'u') return std::nullopt;
    group[n++] = static_cast<uint32_t>(c - '!');
    if (n == 5) {
      if (!flush(5)) return std::nullopt;
      n = 0;
    }
  }
  if (n == 1) return std::nullopt;
  if (n > 1 && !flush(n)) return std::nullopt;
  return out;
}

namespace {

int paeth(int a, int b, int c) {
  int p = a + b - c;
  int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

}  // namespace

std::optional<std::string> pdf_undo_predictor(std::string_view in, int predictor, int colors,
                                              int bits_per_component, int columns) {
  if (predictor <= 1) return std::string(in);
  if (predictor < 10 || colors < 1 || colors > 32 || columns < 1 || columns > (1 << 20) ||
      (bits_per_component != 1 && bits_per_component != 2 && bits_per_component != 4 &&
       bits_per_component != 8 && bits_per_component != 16)) {
    return std::nullopt;
  }
  size_t bpp = static_cast<size_t>((colors * bits_per_component + 7) / 8);
  size_t row = (static_cast<size_t>(colors) * bits_per_component * columns + 7) / 8;
  std::string out;
  out.reserve(in.size());
  std::string prev(row, '\0');
  std::string cur(row, '\0');
  for (size_t pos = 0; pos + 1 <= in.size(); pos += row + 1) {
    int type = static_cast<unsigned char>(in[pos]);
    size_t avail = in.size() - pos - 1 < row ? in.size() - pos - 1 : row;
    for (size_t i = 0; i < row; ++i) {
      int x = i < avail ? static_cast<unsigned char>(in[pos + 1 + i]) : 0;
      int a = i >= bpp ? static_cast<unsigned char>(cur[i - bpp]) : 0;
      int b = static_cast<unsigned char>(prev[i]);
      int c = i >= bpp ? static_cast<unsigned char>(prev[i - bpp]) : 0;
      int v = x;
      switch (type) {
        case 0:
          break;
        case 1:
          v = x + a;
          break;
        case 2:
          v = x + b;
          break;
        case 3:
          v = x + (a + b) / 2;
          break;
        case 4:
          v = x + paeth(a, b, c);
          break;
        default:
          return std::nullopt;
      }
      cur[i] = static_cast<char>(v & 0xff);
    }
    out.append(cur, 0, avail);
    prev.swap(cur);
  }
  return out;
}

}  // namespace ec
