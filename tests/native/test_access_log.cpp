// The level of the one access-log line per request: error pages someone, so it is kept for the
// server's own failures; a client that disconnected (499) is an everyday event.
#include "core/context.hpp"
#include "core/json.hpp"
#include "http/access_log.hpp"

#include <catch2/catch.hpp>

using namespace ec;

TEST_CASE("access log level: 5xx error and 4xx warn and a client disconnect info") {
  Env env;
  Envelope e;
  e.method = "GET";
  Ctx ctx(1, e, env);
  auto level = [&](int status) {
    std::optional<json> line = parse_json(access_log_line(ctx, status), 4);
    REQUIRE(line);
    return (*line)["level"].get<std::string>();
  };
  CHECK(level(200) == "info");
  CHECK(level(404) == "warn");
  CHECK(level(499) == "info");
  CHECK(level(500) == "error");
  CHECK(level(503) == "error");
}
