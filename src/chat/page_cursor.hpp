// Opaque keyset cursors for the chat, message, memory and training lists: the last item's sort key,
// "{n}.{id}" base64url-encoded so clients treat it as a token, not as something to build or edit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ec {

struct PageCursor {
  int64_t time_ms = 0;  // or any other integer key (a frame's seq)
  std::string id;       // tie-breaker; may be empty
};

std::string encode_page_cursor(const PageCursor& c);
// nullopt for anything encode_page_cursor did not make (a 400 for the caller).
std::optional<PageCursor> decode_page_cursor(std::string_view text);

}  // namespace ec
