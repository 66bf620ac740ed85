// Accounts and tokens through the FakeHost: real SQLite D1, real RS256 and PBKDF2 via OpenSSL.
// Each test also pins down the effects a flow performs.
#include "auth/jwt.hpp"
#include "auth/password.hpp"
#include "bindings/webcrypto.hpp"
#include "crypto/encoding.hpp"
#include "crypto/sha256.hpp"
#include "support/fake_host.hpp"
#include "support/openssl_crypto.hpp"

#include <catch2/catch.hpp>

using namespace ec;
using ec::testing::FakeHost;
using ec::testing::HttpResult;
using ec::testing::json;

namespace {

using Ops = std::vector<std::string>;

HttpResult register_user(FakeHost& h, const std::string& name,
                         const std::string& pw = "hunter22!") {
  return h.post("/api/v1/auth/register", {{"username", name}, {"password", pw}});
}

std::string str(const json& j, const char* key) { return j.at(key).get<std::string>(); }

json payload_of(const std::string& token) {
  size_t a = token.find('.');
  size_t b = token.find('.', a + 1);
  return json::parse(*base64url_decode(token.substr(a + 1, b - a - 1)));
}
json header_of(const std::string& token) {
  return json::parse(*base64url_decode(token.substr(0, token.find('.'))));
}

// Signs arbitrary header/payload with the server's current private key (read from D1).
std::string forge(FakeHost& h, json header, json payload) {
  json row = h.query("SELECT kid, private_jwk FROM signing_keys WHERE retired_at IS NULL").at(0);
  if (!header.contains("kid")) header["kid"] = row["kid"];
  std::string input = jwt_signing_input(header, payload);
  json jwk = json::parse(row["private_jwk"].get<std::string>());
  return jwt_assemble(input, ec::testing::rsa_sign(jwk, input));
}

}  // namespace

TEST_CASE("register creates a user, a session and a verifiable RS256 token") {
  FakeHost h;
  HttpResult r = register_user(h, "Alice.Smith");
  REQUIRE(r.status == 201);
  CHECK(r.body_json["user"]["username"] == "alice.smith");
  CHECK(r.body_json["user"].contains("password_hash") == false);
  CHECK(r.body_json["expiresIn"] == 900);
  CHECK(r.body_json["tokenType"] == "Bearer");
  // First use: no key yet, so one is generated and persisted before signing.
  CHECK(r.ops == Ops{"body.read", "d1.first", "crypto.pbkdf2", "d1.all", "crypto.generate_rsa",
                     "d1.batch", "d1.all", "crypto.sign", "d1.batch"});

  std::string at = str(r.body_json, "accessToken");
  json hdr = header_of(at);
  json claims = payload_of(at);
  CHECK(hdr["alg"] == "RS256");
  CHECK(hdr["typ"] == "JWT");
  CHECK(claims["iss"] == "edgechat");
  CHECK(claims["aud"] == "edgechat-api");
  CHECK(claims["sub"] == r.body_json["user"]["id"]);
  CHECK(claims["exp"].get<int64_t>() - claims["iat"].get<int64_t>() == 900);
  CHECK(str(claims, "jti").size() == 32);

  json jwks = h.get("/.well-known/jwks.json").body_json;
  REQUIRE(jwks["keys"].size() == 1);
  CHECK(jwks["keys"][0]["kid"] == hdr["kid"]);
  CHECK(jwks["keys"][0].contains("d") == false);  // never the private half
  size_t dot = at.rfind('.');
  CHECK(ec::testing::rsa_verify(jwks["keys"][0], at.substr(0, dot),
                                *base64url_decode(at.substr(dot + 1))));

  // Stored: a hashed refresh token and a PBKDF2 hash with its parameters, nothing in clear.
  json user = h.query("SELECT password_hash FROM users").at(0);
  CHECK(str(user, "password_hash").rfind("pbkdf2_sha256$100000$", 0) == 0);
  json rt = h.query("SELECT token_hash FROM refresh_tokens").at(0);
  CHECK(str(rt, "token_hash").size() == 64);
  CHECK(str(rt, "token_hash") != str(r.body_json, "refreshToken"));
  CHECK(str(r.body_json, "refreshToken").size() >= 4 + 43);  // "ecr_" + 256 bits
}

TEST_CASE("usernames are unique case-insensitively and validated") {
  FakeHost h;
  REQUIRE(register_user(h, "bob").status == 201);
  HttpResult dup = register_user(h, "BOB");
  CHECK(dup.status == 409);
  CHECK(dup.body_json["error"]["code"] == "auth.username_taken");
  CHECK(dup.ops == Ops{"body.read", "d1.first"});  // refused before any PBKDF2 work

  HttpResult bad = h.post("/api/v1/auth/register", {{"username", "a b"}, {"password", "short"}});
  CHECK(bad.status == 400);
  CHECK(bad.body_json["error"]["code"] == "validation.failed");
  CHECK(bad.body_json["error"]["fields"].contains("username"));
  CHECK(bad.body_json["error"]["fields"].contains("password"));
  CHECK(bad.body.find("short") == std::string::npos);  // never echoes the password
  CHECK(bad.ops.size() == 1);                          // only body.read
}

TEST_CASE("PBKDF2 never exceeds the Workers cap of 100,000 iterations") {
  STATIC_REQUIRE(kPasswordIterations <= 100000);
  STATIC_REQUIRE(kMaxPbkdf2Iterations == 100000);
  FakeHost h;
  REQUIRE(register_user(h, "carol").status == 201);
  REQUIRE(h.post("/api/v1/auth/login", {{"username", "carol"}, {"password", "hunter22!"}}).status ==
          200);
  REQUIRE(h.post("/api/v1/auth/login", {{"username", "nobody"}, {"password", "x"}}).status == 401);
  CHECK(h.max_pbkdf2_iterations == 100000);
}

TEST_CASE("login: one answer for unknown user and wrong password, with the same work") {
  FakeHost h;
  REQUIRE(register_user(h, "dave").status == 201);
  HttpResult wrong = h.post("/api/v1/auth/login", {{"username", "dave"}, {"password", "nope"}});
  HttpResult unknown = h.post("/api/v1/auth/login", {{"username", "erin"}, {"password", "nope"}});
  CHECK(wrong.status == 401);
  CHECK(unknown.status == 401);
  CHECK(wrong.body_json["error"] == unknown.body_json["error"]);
  CHECK(wrong.body_json["error"]["code"] == "auth.invalid_credentials");
  // Same effect sequence: the unknown user still pays for a full PBKDF2.
  CHECK(wrong.ops == unknown.ops);
  CHECK(wrong.ops == Ops{"body.read", "d1.first", "crypto.pbkdf2"});

  HttpResult ok = h.post("/api/v1/auth/login", {{"username", "DAVE"}, {"password", "hunter22!"}});
  REQUIRE(ok.status == 200);
  CHECK(ok.body_json["user"]["username"] == "dave");
  CHECK(h.query("SELECT COUNT(*) AS n FROM sessions").at(0)["n"] == 2);
}

TEST_CASE("an old password hash is upgraded on the next successful login") {
  FakeHost h;
  REQUIRE(register_user(h, "frank").status == 201);
  // Rewrite frank's hash with a weaker count, as an older release would have stored it.
  std::string salt = "0123456789abcdef";
  std::string weak = "pbkdf2_sha256$1000$" + base64url_encode(salt) + "$" +
                     base64url_encode(ec::testing::pbkdf2_sha256("hunter22!", salt, 1000, 32));
  h.query("UPDATE users SET password_hash = '" + weak + "'");
  HttpResult ok = h.post("/api/v1/auth/login", {{"username", "frank"}, {"password", "hunter22!"}});
  REQUIRE(ok.status == 200);
  CHECK(str(h.query("SELECT password_hash FROM users").at(0), "password_hash")
            .rfind("pbkdf2_sha256$100000$", 0) == 0);
}

TEST_CASE("/me verifies once, then serves from the verification cache") {
  FakeHost h;
  HttpResult reg = register_user(h, "gina");
  std::string at = str(reg.body_json, "accessToken");
  HttpResult first = h.get("/api/v1/auth/me", at);
  REQUIRE(first.status == 200);
  CHECK(first.body_json["user"]["username"] == "gina");
  CHECK(first.ops == Ops{"crypto.verify", "d1.first"});
  HttpResult second = h.get("/api/v1/auth/me", at);
  CHECK(second.ops == Ops{"d1.first"});
  CHECK(second.log.find(str(reg.body_json["user"], "id")) != std::string::npos);
  CHECK(second.log.find(at) == std::string::npos);  // tokens never logged
}

TEST_CASE("token rejections are 401 with distinct codes") {
  FakeHost h;
  HttpResult reg = register_user(h, "hank");
  std::string at = str(reg.body_json, "accessToken");
  json claims = payload_of(at);
  int64_t now = static_cast<int64_t>(h.now_ms / 1000);
  auto code_of = [&](const std::string& token) {
    HttpResult r = h.get("/api/v1/auth/me", token);
    CHECK(r.status == 401);
    return r.body_json["error"]["code"].get<std::string>();
  };
  auto seg = [](const json& j) { return base64url_encode(j.dump()); };

  CHECK(h.get("/api/v1/auth/me").body_json["error"]["code"] == "auth.missing_token");
  CHECK(code_of("not-a-token") == "auth.token_malformed");
  // alg none with a fake signature, and alg none unsigned.
  json none_hdr = {{"alg", "none"}, {"typ", "JWT"}, {"kid", header_of(at)["kid"]}};
  CHECK(code_of(seg(none_hdr) + "." + seg(claims) + ".c2ln") == "auth.token_alg_none");
  CHECK(code_of(seg(none_hdr) + "." + seg(claims) + ".") == "auth.token_malformed");
  // HS256 keyed with the server's public key (the alg-confusion attack).
  json jwk = h.get("/.well-known/jwks.json").body_json["keys"][0];
  json hs_hdr = {{"alg", "HS256"}, {"typ", "JWT"}, {"kid", jwk["kid"]}};
  std::string hs_input = seg(hs_hdr) + "." + seg(claims);
  std::string hs = jwt_assemble(hs_input, digest_bytes(hmac_sha256(jwk.dump(), hs_input)));
  CHECK(code_of(hs) == "auth.token_alg_mismatch");
  // Unknown kid.
  json other = header_of(at);
  other["kid"] = "someone-elses-key";
  CHECK(code_of(forge(h, other, claims)) == "auth.token_unknown_kid");
  // Tampered payload, original signature.
  json tampered = claims;
  tampered["sub"] = "usr_attacker";
  CHECK(code_of(seg(header_of(at)) + "." + seg(tampered) + at.substr(at.rfind('.'))) ==
        "auth.token_bad_signature");
  // Expired and not-yet-valid, both correctly signed.
  json expired = claims;
  expired["iat"] = now - 3600;
  expired["exp"] = now - 60;
  expired["jti"] = "e1";
  CHECK(code_of(forge(h, header_of(at), expired)) == "auth.token_expired");
  json future = claims;
  future["nbf"] = now + 600;
  future["jti"] = "f1";
  CHECK(code_of(forge(h, header_of(at), future)) == "auth.token_not_yet_valid");
  // Control: a correctly forged valid token is accepted, so the rejections above mean something.
  json fine = claims;
  fine["jti"] = "ok1";
  CHECK(h.get("/api/v1/auth/me", forge(h, header_of(at), fine)).status == 200);
}

TEST_CASE("a cached token still expires") {
  FakeHost h;
  std::string at = str(register_user(h, "ivan").body_json, "accessToken");
  REQUIRE(h.get("/api/v1/auth/me", at).status == 200);
  h.advance_seconds(900 + 31);
  HttpResult late = h.get("/api/v1/auth/me", at);
  CHECK(late.status == 401);
  CHECK(late.body_json["error"]["code"] == "auth.token_expired");
}

TEST_CASE("refresh rotates; a reused refresh token revokes the whole session") {
  FakeHost h;
  HttpResult reg = register_user(h, "judy");
  std::string rt1 = str(reg.body_json, "refreshToken");
  HttpResult r2 = h.post("/api/v1/auth/refresh", {{"refreshToken", rt1}});
  REQUIRE(r2.status == 200);
  std::string rt2 = str(r2.body_json, "refreshToken");
  std::string at2 = str(r2.body_json, "accessToken");
  CHECK(rt2 != rt1);
  CHECK(payload_of(at2)["sid"] == payload_of(str(reg.body_json, "accessToken"))["sid"]);
  REQUIRE(h.get("/api/v1/auth/me", at2).status == 200);

  HttpResult reuse = h.post("/api/v1/auth/refresh", {{"refreshToken", rt1}});
  CHECK(reuse.status == 401);
  CHECK(reuse.body_json["error"]["code"] == "auth.refresh_reused");
  // The thief's copy and the legitimate newest token are both dead, and so is the access token.
  HttpResult after = h.post("/api/v1/auth/refresh", {{"refreshToken", rt2}});
  CHECK(after.status == 401);
  CHECK(after.body_json["error"]["code"] == "auth.session_revoked");
  CHECK(h.get("/api/v1/auth/me", at2).body_json["error"]["code"] == "auth.session_revoked");
  CHECK(h.query("SELECT revoke_reason FROM sessions").at(0)["revoke_reason"] == "reuse");

  HttpResult unknown = h.post("/api/v1/auth/refresh", {{"refreshToken", "ecr_nope"}});
  CHECK(unknown.body_json["error"]["code"] == "auth.refresh_invalid");
}

TEST_CASE("refresh loses a race atomically") {
  FakeHost h;
  std::string rt = str(register_user(h, "kate").body_json, "refreshToken");
  // Simulate a concurrent winner: just before our rotation batch commits, another request
  // rotates the same token. The guarded INSERT then inserts nothing and the session is revoked.
  bool raced = false;
  h.intercept = [&](const std::string& op,
                    const json&) -> std::optional<ec::testing::ForcedResult> {
    if (op == "d1.batch" && !raced) {
      raced = true;
      h.query("UPDATE refresh_tokens SET used_at = 1, replaced_by = 'other'");
    }
    return std::nullopt;
  };
  HttpResult r = h.post("/api/v1/auth/refresh", {{"refreshToken", rt}});
  CHECK(raced);
  CHECK(r.status == 401);
  CHECK(r.body_json["error"]["code"] == "auth.refresh_reused");
  CHECK(h.query("SELECT COUNT(*) AS n FROM refresh_tokens").at(0)["n"] == 1);
}

TEST_CASE("logout revokes the session; guests work like users") {
  FakeHost h;
  HttpResult g = h.request("POST", "/api/v1/auth/guest");
  REQUIRE(g.status == 201);
  CHECK(g.body_json["user"]["isGuest"] == true);
  CHECK(g.body_json["user"]["role"] == "guest");
  std::string at = str(g.body_json, "accessToken");
  CHECK(payload_of(at)["role"] == "guest");
  REQUIRE(h.get("/api/v1/auth/me", at).status == 200);

  HttpResult out = h.request("POST", "/api/v1/auth/logout", {{"authorization", "Bearer " + at}});
  CHECK(out.status == 204);
  CHECK(out.body.empty());
  CHECK(h.get("/api/v1/auth/me", at).body_json["error"]["code"] == "auth.session_revoked");
  HttpResult again =
      h.post("/api/v1/auth/refresh", {{"refreshToken", str(g.body_json, "refreshToken")}});
  CHECK(again.body_json["error"]["code"] == "auth.session_revoked");
  CHECK(h.request("POST", "/api/v1/auth/logout").body_json["error"]["code"] ==
        "auth.missing_token");
}

TEST_CASE("disabled users are refused at once") {
  FakeHost h;
  HttpResult reg = register_user(h, "leo");
  std::string at = str(reg.body_json, "accessToken");
  REQUIRE(h.get("/api/v1/auth/me", at).status == 200);
  h.query("UPDATE users SET disabled_at = 1");
  CHECK(h.get("/api/v1/auth/me", at).status == 403);
  CHECK(h.post("/api/v1/auth/login", {{"username", "leo"}, {"password", "hunter22!"}}).status ==
        403);
}

TEST_CASE("keys rotate; the old kid stays published until its tokens expire") {
  FakeHost h;
  std::string old_at = str(register_user(h, "mia").body_json, "accessToken");
  std::string old_kid = str(header_of(old_at), "kid");
  h.advance_seconds(31 * 86400.0);
  HttpResult fresh = h.post("/api/v1/auth/login", {{"username", "mia"}, {"password", "hunter22!"}});
  REQUIRE(fresh.status == 200);
  std::string new_kid = str(header_of(str(fresh.body_json, "accessToken")), "kid");
  CHECK(new_kid != old_kid);
  auto kids = [&] {
    std::vector<std::string> out;
    HttpResult jwks = h.get("/.well-known/jwks.json");
    for (const json& k : jwks.body_json["keys"]) out.push_back(str(k, "kid"));
    std::sort(out.begin(), out.end());
    return out;
  };
  std::vector<std::string> both = {old_kid, new_kid};
  std::sort(both.begin(), both.end());
  CHECK(kids() == both);
  h.advance_seconds(900 + 31 + 61);  // past the old key's last token (+ leeway, + ring TTL)
  CHECK(kids() == std::vector<std::string>{new_kid});
}

TEST_CASE("PRIVATE_KEY_PEM signs when set; its private half is never stored") {
  auto env = FakeHost::default_env();
  env["PRIVATE_KEY_PEM"] = ec::testing::rsa_generate_pem();
  env["KID"] = "prod-2026-11";
  FakeHost h(env);
  HttpResult reg = register_user(h, "nina");
  REQUIRE(reg.status == 201);
  CHECK(header_of(str(reg.body_json, "accessToken"))["kid"] == "prod-2026-11");
  CHECK(std::find(reg.ops.begin(), reg.ops.end(), "crypto.generate_rsa") == reg.ops.end());
  json row = h.query("SELECT kid, private_jwk, source FROM signing_keys").at(0);
  CHECK(row["kid"] == "prod-2026-11");
  CHECK(row["private_jwk"].is_null());
  CHECK(row["source"] == "secret");
  CHECK(h.get("/api/v1/auth/me", str(reg.body_json, "accessToken")).status == 200);
}

TEST_CASE("storage failures are 503 with the usual shape, not 500 or a trap") {
  FakeHost h;
  h.intercept = [](const std::string& op, const json&) -> std::optional<ec::testing::ForcedResult> {
    if (op.rfind("d1.", 0) == 0) return ec::testing::ForcedResult{false, "D1 is down", "internal"};
    return std::nullopt;
  };
  HttpResult r = register_user(h, "omar");
  CHECK(r.status == 503);
  CHECK(r.body_json["error"]["code"] == "storage.unavailable");
  CHECK(r.body.find("D1 is down") == std::string::npos);  // host messages stay in logs
}

TEST_CASE("a signed access token missing any claim the server issues is refused") {
  FakeHost h;
  HttpResult reg = register_user(h, "ivy");
  json claims = payload_of(str(reg.body_json, "accessToken"));
  json hdr = header_of(str(reg.body_json, "accessToken"));
  int n = 0;
  for (const char* claim : {"sid", "sub", "iat", "exp", "iss", "aud", "jti", "role", "nbf"}) {
    INFO(claim);
    REQUIRE(claims.contains(claim));
    json missing = claims;
    missing.erase(claim);
    missing["jti"] = "missing-" + std::to_string(n++);  // a fresh token, never a cached one
    if (std::string(claim) == "jti") missing.erase("jti");
    HttpResult r = h.get("/api/v1/auth/me", forge(h, hdr, missing));
    CHECK(r.status == 401);
    CHECK(r.body_json["error"]["code"] == "auth.token_invalid_claims");
  }
}
