#include "http/access_log.hpp"

#include "http/router.hpp"

#include <cmath>
#include <cstdio>

namespace ec {

// Built by hand rather than through a json value: it runs on every request, and building an
// object only to serialise it cost more than the rest of a cached-token request.
std::string access_log_line(const Ctx& ctx, int status) {
  auto method = parse_method(ctx.request().method);
  // 499 (the client disconnected) is an everyday event, not a problem to look into.
  const char* level = status == 499   ? "info"
                      : status >= 500 ? "error"
                      : status >= 400 ? "warn"
                                      : "info";
  char duration[32];
  std::snprintf(duration, sizeof duration, "%.1f", std::round(ctx.elapsed_ms() * 10.0) / 10.0);
  std::string out;
  out.reserve(192);
  out.append("{\"level\":\"").append(level).append("\",\"msg\":\"request\",\"requestId\":");
  append_json_string(out, ctx.request_id);
  out.append(",\"method\":\"")
      .append(method ? method_name(*method) : "OTHER")
      .append("\",\"route\":");
  append_json_string(out, ctx.route);
  out.append(",\"status\":").append(std::to_string(status)).append(",\"durationMs\":");
  out.append(duration).append(",\"userId\":");
  if (ctx.user_id.empty()) {
    out.append("null");
  } else {
    append_json_string(out, ctx.user_id);
  }
  out.push_back('}');
  return out;
}

}  // namespace ec
