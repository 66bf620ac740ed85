// Opaque keyset cursors for paged lists (chats, messages, memory, training, jobs, usage, users):
// the last item's sort key, "{n}.{id}" base64url-encoded so clients treat it as a token, not as
// something to build or edit. Here in http/ because every domain's list pages the same way.
#pragma once

#include "core/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ec {

struct PageCursor {
  int64_t time_ms = 0;  // or any other integer key (a frame's seq)
  std::string id;       // tie-breaker; may be empty
};

std::string encode_page_cursor(const PageCursor& c);
// nullopt for anything encode_page_cursor did not make (a 400 for the caller).
std::optional<PageCursor> decode_page_cursor(std::string_view text);

// For a page read with LIMIT limit + 1 (newest first by `time_column`, then id): trims `rows` to
// `limit` and returns the cursor after its last row when there was one more, else null.
json next_page_cursor(std::vector<json>& rows, size_t limit,
                      std::string_view time_column = "created_at");

}  // namespace ec
