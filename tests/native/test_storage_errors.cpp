// How D1 failures reach the client: 503 means "try again" and is kept for failures that may pass
// on a retry; a statement the database refuses for its own shape (the shim classifies D1's "too
// complex", "too many SQL variables" as invalid and "string or blob too big" as too_large) can
// never succeed, so it is a 4xx.
#include "support/fake_host.hpp"

#include <catch2/catch.hpp>

using ec::testing::FakeHost;
using ec::testing::ForcedResult;
using ec::testing::HttpResult;
using ec::testing::json;

TEST_CASE("D1 errors: transient is 503 and a refused statement shape is 4xx") {
  FakeHost h;
  HttpResult reg =
      h.post("/api/v1/auth/register", {{"username", "stella"}, {"password", "long enough pw"}});
  REQUIRE(reg.status == 201);
  const std::string t = reg.body_json["accessToken"].get<std::string>();
  struct Case {
    std::string code;
    int status;
    std::string api_code;
  };
  for (const Case& c : {Case{"invalid", 422, "storage.query_rejected"},
                        Case{"too_large", 413, "storage.value_too_large"},
                        Case{"internal", 503, "storage.unavailable"}}) {
    INFO(c.code);
    h.intercept = [&](const std::string& op, const json& args) -> std::optional<ForcedResult> {
      if (op == "d1.all" && args.value("sql", "").find("FROM documents") != std::string::npos) {
        return ForcedResult{false, "D1 said no", c.code};
      }
      return std::nullopt;
    };
    HttpResult r = h.get("/api/v1/documents", t);
    CHECK(r.status == c.status);
    CHECK(r.body_json["error"]["code"] == c.api_code);
    CHECK(r.body.find("D1 said no") == std::string::npos);
  }
}
