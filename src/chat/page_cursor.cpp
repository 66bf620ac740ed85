#include "chat/page_cursor.hpp"

#include "crypto/encoding.hpp"

#include <charconv>

namespace ec {

std::string encode_page_cursor(const PageCursor& c) {
  return base64url_encode(std::to_string(c.time_ms) + "." + c.id);
}

std::optional<PageCursor> decode_page_cursor(std::string_view text) {
  // Real cursors are short; a long one is junk and is not worth decoding.
  if (text.empty() || text.size() > 512) return std::nullopt;
  std::optional<std::string> raw = base64url_decode(text);
  if (!raw) return std::nullopt;
  const size_t dot = raw->find('.');
  if (dot == std::string::npos || dot == 0) return std::nullopt;
  PageCursor c;
  auto [p, ec] = std::from_chars(raw->data(), raw->data() + dot, c.time_ms);
  if (ec != std::errc() || p != raw->data() + dot) return std::nullopt;
  c.id = raw->substr(dot + 1);
  return c;
}

}  // namespace ec
