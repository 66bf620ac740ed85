// X-Request-Id: a caller's id is kept when it is sane (so traces join across services), otherwise
// one is generated. "Sane" is 1–128 chars of [A-Za-z0-9._:-] — nothing that could forge a log line
// or smuggle a header.
#pragma once

#include <string>
#include <string_view>

namespace ec {

bool is_sane_request_id(std::string_view id);
// 16 random bytes → 32 lower-case hex chars.
std::string make_request_id(std::string_view random16);

}  // namespace ec
