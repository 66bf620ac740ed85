// API keys through the FakeHost (real SQLite D1): created with an access token, shown once, used
// as a bearer on any authenticated route, refused once revoked or expired.
#include "crypto/encoding.hpp"
#include "crypto/sha256.hpp"
#include "support/fake_host.hpp"

#include <catch2/catch.hpp>

#include <regex>

using namespace ec;
using ec::testing::FakeHost;
using ec::testing::HttpResult;
using ec::testing::json;

namespace {

using Ops = std::vector<std::string>;

std::string str(const json& j, const char* key) { return j.at(key).get<std::string>(); }

std::string access_token_of(FakeHost& h, const std::string& name) {
  HttpResult r = h.post("/api/v1/auth/register", {{"username", name}, {"password", "hunter22!"}});
  REQUIRE(r.status == 201);
  return str(r.body_json, "accessToken");
}

HttpResult create_key(FakeHost& h, const std::string& bearer, json body = {{"name", "ci"}}) {
  return h.post("/api/v1/api-keys", body, bearer);
}

std::string new_key(FakeHost& h, const std::string& bearer, json body = {{"name", "ci"}}) {
  HttpResult r = create_key(h, bearer, std::move(body));
  REQUIRE(r.status == 201);
  return str(r.body_json["apiKey"], "key");
}

HttpResult delete_key(FakeHost& h, const std::string& id, const std::string& bearer) {
  return h.request("DELETE", "/api/v1/api-keys/" + id, {{"authorization", "Bearer " + bearer}});
}

std::string code_of(const HttpResult& r) { return str(r.body_json["error"], "code"); }

}  // namespace

TEST_CASE("api keys: created once, usable as a bearer, listed without secrets, then revoked") {
  FakeHost h;
  std::string at = access_token_of(h, "alice");
  HttpResult made = create_key(h, at, {{"name", "laptop script"}});
  REQUIRE(made.status == 201);
  const json& k = made.body_json["apiKey"];
  std::string key = str(k, "key");
  std::string id = str(k, "id");
  CHECK(std::regex_match(key, std::regex("^ec_[A-Za-z0-9_-]{43}$")));
  CHECK(std::regex_match(id, std::regex("^key_[0-9a-f]{24}$")));
  CHECK(k["name"] == "laptop script");
  CHECK(k["prefix"] == key.substr(0, 10));
  CHECK(k["lastUsedAt"].is_null());
  CHECK(k["expiresAt"].is_null());
  CHECK(std::regex_match(str(k, "createdAt"), std::regex(R"(^\d{4}-\d\d-\d\dT[\d:]{8}\.\d{3}Z$)")));
  REQUIRE(made.header("location") != nullptr);
  CHECK(*made.header("location") == "/api/v1/api-keys/" + id);
  CHECK(made.log.find(key) == std::string::npos);

  // Stored: the hash and the prefix, never the key.
  json row = h.query("SELECT * FROM api_keys").at(0);
  CHECK(row["key_hash"] == hex_encode(digest_bytes(sha256(key))));
  CHECK(row.dump().find(key) == std::string::npos);

  // The key works where an access token does; last_used_at is written at most once a minute.
  HttpResult me = h.get("/api/v1/auth/me", key);
  REQUIRE(me.status == 200);
  CHECK(me.body_json["user"]["username"] == "alice");
  CHECK(me.ops == Ops{"d1.first", "d1.run"});
  CHECK(me.log.find(str(me.body_json["user"], "id")) != std::string::npos);  // ctx.user_id
  CHECK(me.log.find(key) == std::string::npos);
  h.advance_seconds(30);
  CHECK(h.get("/api/v1/auth/me", key).ops == Ops{"d1.first"});
  h.advance_seconds(31);
  CHECK(h.get("/api/v1/auth/me", key).ops == Ops{"d1.first", "d1.run"});
  CHECK(h.query("SELECT last_used_at FROM api_keys").at(0)["last_used_at"] ==
        static_cast<int64_t>(h.now_ms));

  HttpResult list = h.get("/api/v1/api-keys", at);
  REQUIRE(list.status == 200);
  REQUIRE(list.body_json["apiKeys"].size() == 1);
  const json& item = list.body_json["apiKeys"][0];
  CHECK(item["id"] == id);
  CHECK(item["prefix"] == key.substr(0, 10));
  CHECK(item["lastUsedAt"].is_string());
  CHECK(item.contains("key") == false);
  CHECK(list.body.find(key) == std::string::npos);
  CHECK(list.body.find(str(row, "key_hash")) == std::string::npos);
  // An API key may list (no secrets there).
  CHECK(h.get("/api/v1/api-keys", key).status == 200);

  HttpResult del = delete_key(h, id, at);
  CHECK(del.status == 204);
  CHECK(del.body.empty());
  HttpResult after = h.get("/api/v1/auth/me", key);
  CHECK(after.status == 401);
  CHECK(code_of(after) == "auth.api_key_revoked");
  CHECK(h.get("/api/v1/api-keys", at).body_json["apiKeys"].empty());
  CHECK(code_of(delete_key(h, id, at)) == "api_keys.not_found");
  // The JWT path still works alongside.
  CHECK(h.get("/api/v1/auth/me", at).status == 200);
}

TEST_CASE("api keys: an expired key is 401") {
  FakeHost h;
  std::string at = access_token_of(h, "bob");
  HttpResult made = create_key(h, at, {{"name", "short"}, {"expiresInDays", 1}});
  REQUIRE(made.status == 201);
  std::string key = str(made.body_json["apiKey"], "key");
  CHECK(made.body_json["apiKey"]["expiresAt"].is_string());
  CHECK(h.query("SELECT expires_at - created_at AS ttl FROM api_keys").at(0)["ttl"] == 86400000);
  REQUIRE(h.get("/api/v1/auth/me", key).status == 200);
  h.advance_seconds(86400 - 1);
  REQUIRE(h.get("/api/v1/auth/me", key).status == 200);
  h.advance_seconds(1);
  HttpResult late = h.get("/api/v1/auth/me", key);
  CHECK(late.status == 401);
  CHECK(code_of(late) == "auth.api_key_expired");
  // Expired keys stay listed (with expiresAt) until revoked, so the user sees why.
  HttpResult login = h.post("/api/v1/auth/login", {{"username", "bob"}, {"password", "hunter22!"}});
  REQUIRE(login.status == 200);
  CHECK(
      h.get("/api/v1/api-keys", str(login.body_json, "accessToken")).body_json["apiKeys"].size() ==
      1);
}

TEST_CASE("api keys: a disabled user's key is 403") {
  FakeHost h;
  std::string at = access_token_of(h, "carol");
  std::string key = new_key(h, at);
  REQUIRE(h.get("/api/v1/auth/me", key).status == 200);
  h.query("UPDATE users SET disabled_at = 1");
  HttpResult r = h.get("/api/v1/auth/me", key);
  CHECK(r.status == 403);
  CHECK(code_of(r) == "auth.user_disabled");
  CHECK(r.log.find(str(h.query("SELECT id FROM users").at(0), "id")) != std::string::npos);
}

TEST_CASE("api keys: an API key cannot create or revoke keys") {
  FakeHost h;
  std::string at = access_token_of(h, "dave");
  std::string key = new_key(h, at);
  std::string id = str(h.query("SELECT id FROM api_keys").at(0), "id");

  HttpResult mint = create_key(h, key, {{"name", "successor"}});
  CHECK(mint.status == 403);
  CHECK(code_of(mint) == "auth.api_key_not_allowed");
  CHECK(mint.ops.empty());  // refused by the gateway before any lookup, before its body is read
  HttpResult del = delete_key(h, id, key);
  CHECK(del.status == 403);
  CHECK(code_of(del) == "auth.api_key_not_allowed");
  CHECK(h.query("SELECT COUNT(*) AS n FROM api_keys WHERE revoked_at IS NULL").at(0)["n"] == 1);
  // Garbage with the prefix is refused the same way: it never reaches the JWT verifier.
  CHECK(code_of(create_key(h, "ec_nope")) == "auth.api_key_not_allowed");
}

TEST_CASE("api keys: malformed and unknown ec_ tokens are 401, not 500") {
  FakeHost h;
  std::string at = access_token_of(h, "erin");
  std::string key = new_key(h, at);
  std::string body43 = key.substr(3);
  const std::vector<std::string> malformed = {
      "ec_",
      "ec_!!!",
      "ec_" + body43.substr(0, 42) + "*",  // right length, outside the alphabet
      "ec_" + body43.substr(0, 42) + "=",  // padding
      key + "A",                           // too long
      key.substr(0, key.size() - 1),       // too short
      "ec_" + std::string(10000, 'A'),
      "ec_" + std::string(43, '\xff'),
  };
  for (const std::string& t : malformed) {
    HttpResult r = h.get("/api/v1/auth/me", t);
    CHECK(r.status == 401);
    CHECK(code_of(r) == "auth.api_key_invalid");
    CHECK(r.ops.empty());  // no D1 lookup for a key that cannot exist
  }
  // Well-formed but unknown: one lookup, the same answer.
  std::string flipped = key;
  flipped[5] = flipped[5] == 'A' ? 'B' : 'A';
  HttpResult unknown = h.get("/api/v1/auth/me", flipped);
  CHECK(unknown.status == 401);
  CHECK(code_of(unknown) == "auth.api_key_invalid");
  CHECK(unknown.ops == Ops{"d1.first"});
  // A refresh token ("ecr_") is not mistaken for an API key.
  CHECK(code_of(h.get("/api/v1/auth/me", "ecr_abc")) == "auth.token_malformed");
}

TEST_CASE("api keys: guests cannot create keys") {
  FakeHost h;
  HttpResult g = h.request("POST", "/api/v1/auth/guest");
  REQUIRE(g.status == 201);
  std::string at = str(g.body_json, "accessToken");
  HttpResult r = create_key(h, at);
  CHECK(r.status == 403);
  CHECK(code_of(r) == "auth.guest_not_allowed");
  CHECK(h.query("SELECT COUNT(*) AS n FROM api_keys").at(0)["n"] == 0);
  CHECK(h.get("/api/v1/api-keys", at).body_json["apiKeys"].empty());
}

TEST_CASE("api keys: request bodies are validated") {
  FakeHost h;
  std::string at = access_token_of(h, "frank");
  auto field_of = [&](json body) {
    HttpResult r = create_key(h, at, std::move(body));
    CHECK(r.status == 400);
    CHECK(code_of(r) == "validation.failed");
    return r.body_json["error"]["fields"];
  };
  CHECK(field_of(json::object()).contains("name"));
  CHECK(field_of({{"name", ""}}).contains("name"));
  CHECK(field_of({{"name", std::string(101, 'n')}}).contains("name"));
  CHECK(field_of({{"name", 7}}).contains("name"));
  CHECK(field_of({{"name", "x"}, {"expiresInDays", 0}}).contains("expiresInDays"));
  CHECK(field_of({{"name", "x"}, {"expiresInDays", 3651}}).contains("expiresInDays"));
  CHECK(field_of({{"name", "x"}, {"expiresInDays", "30"}}).contains("expiresInDays"));
  CHECK(field_of({{"name", "x"}, {"expiresInDays", 1.5}}).contains("expiresInDays"));
  CHECK(create_key(h, at, {{"name", std::string(100, 'n')}, {"expiresInDays", 3650}}).status ==
        201);
  CHECK(create_key(h, at, {{"name", "n"}, {"expiresInDays", nullptr}}).status == 201);
  CHECK(create_key(h, "").status == 401);
}

TEST_CASE("api keys: one user's keys are invisible to another") {
  FakeHost h;
  std::string a = access_token_of(h, "gina");
  std::string b = access_token_of(h, "hank");
  HttpResult made = create_key(h, a);
  REQUIRE(made.status == 201);
  std::string id = str(made.body_json["apiKey"], "id");
  CHECK(h.get("/api/v1/api-keys", b).body_json["apiKeys"].empty());
  HttpResult del = delete_key(h, id, b);
  CHECK(del.status == 404);
  CHECK(code_of(del) == "api_keys.not_found");
  CHECK(h.get("/api/v1/auth/me", str(made.body_json["apiKey"], "key"))
            .body_json["user"]["username"] == "gina");
}

TEST_CASE("api keys: at most 100 unrevoked keys per user") {
  FakeHost h;
  std::string at = access_token_of(h, "ivan");
  std::string uid = str(h.query("SELECT id FROM users").at(0), "id");
  for (int i = 0; i < 99; ++i) {
    h.query("INSERT INTO api_keys (id, user_id, name, prefix, key_hash, created_at) VALUES ('k" +
            std::to_string(i) + "', '" + uid + "', 'n', 'ec_', 'h" + std::to_string(i) + "', 1)");
  }
  REQUIRE(create_key(h, at).status == 201);
  HttpResult full = create_key(h, at);
  CHECK(full.status == 409);
  CHECK(code_of(full) == "api_keys.limit_reached");
  REQUIRE(delete_key(h, "k0", at).status == 204);
  CHECK(create_key(h, at).status == 201);
  CHECK(h.get("/api/v1/api-keys", at).body_json["apiKeys"].size() == 100);
}
