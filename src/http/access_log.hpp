// One structured JSON log line per request. Only what operators need and nothing a client sent
// verbatim beyond the method: the route is the matched pattern (ids in paths are not logged),
// and bodies, headers, tokens and passwords never appear.
#pragma once

#include "core/context.hpp"

#include <string>

namespace ec {

std::string access_log_line(const Ctx& ctx, int status);

}  // namespace ec
