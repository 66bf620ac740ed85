#include "http/page_cursor.hpp"

#include "core/json.hpp"

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
  // Ids are ours ([A-Za-z0-9_.:-]); anything else was not made by encode_page_cursor.
  for (char ch : c.id) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == ':' || ch == '-';
    if (!ok) return std::nullopt;
  }
  return c;
}

json next_page_cursor(std::vector<json>& rows, size_t limit, std::string_view time_column) {
  if (rows.size() <= limit || limit == 0) return nullptr;
  const json& last = rows[limit - 1];
  json next =
      encode_page_cursor({get_int(last, time_column).value_or(0), string_or(last, "id", "")});
  rows.resize(limit);
  return next;
}

}  // namespace ec
