#include "http/access_log.hpp"

#include "http/router.hpp"

#include <cmath>

namespace ec {

std::string access_log_line(const Ctx& ctx, int status) {
  auto method = parse_method(ctx.request().method);
  json line = {
      {"level", status >= 500 ? "error" : (status >= 400 ? "warn" : "info")},
      {"msg", "request"},
      {"requestId", ctx.request_id},
      {"method", method ? std::string(method_name(*method)) : std::string("OTHER")},
      {"route", ctx.route},
      {"status", status},
      {"durationMs", std::round(ctx.elapsed_ms() * 10.0) / 10.0},
      {"userId", ctx.user_id.empty() ? json(nullptr) : json(ctx.user_id)},
  };
  return dump_json(line);
}

}  // namespace ec
