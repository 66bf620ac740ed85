// A registered user for handler-level tests: its id and an access token.
#pragma once

#include "support/fake_host.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace ec::testing {

struct Account {
  std::string id;
  std::string token;
};

inline Account sign_up(FakeHost& h, const std::string& name) {
  HttpResult r =
      h.post("/api/v1/auth/register", {{"username", name}, {"password", "long enough pw"}});
  REQUIRE(r.status == 201);
  return {r.body_json["user"]["id"].get<std::string>(),
          r.body_json["accessToken"].get<std::string>()};
}

}  // namespace ec::testing
