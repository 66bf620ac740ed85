// JWT structure, key selection and claim checks. The RSA signature is the host's job, so tokens
// here carry placeholder signature bytes; every rejection is asserted by its stable error code.
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>

#include "auth/jwt.hpp"
#include "core/json.hpp"
#include "crypto/encoding.hpp"
#include "crypto/sha256.hpp"

namespace {

constexpr int64_t kNow = 1700000100;
const std::string kSignature = "\x01\x02\x03 placeholder RSA signature \xfe\xff";

ec::json base_header() { return {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "key-1"}}; }

ec::json base_payload() {
  return {{"iss", "https://auth.edgechat.example"},
          {"aud", "edgechat-api"},
          {"sub", "user-42"},
          {"jti", "tok-7f3a"},
          {"sid", "sess-9"},
          {"role", "member"},
          {"iat", kNow - 60},
          {"nbf", kNow - 60},
          {"exp", kNow + 840}};
}

std::string make_token(const ec::json& header, const ec::json& payload,
                       const std::string& signature = kSignature) {
  return ec::jwt_assemble(ec::jwt_signing_input(header, payload), signature);
}

std::string b64url(std::string_view s) { return ec::base64url_encode(s); }

std::string parse_error_code(std::string_view token) {
  auto parts = ec::parse_jwt(token);
  return parts.ok() ? "ok" : parts.error().code;
}

std::vector<ec::VerifyKey> test_keys() {
  ec::json jwk = {{"kty", "RSA"}, {"n", "sXch"}, {"e", "AQAB"}};
  return {{"key-1", "RS256", jwk}, {"key-2", "RS256", jwk}};
}

// Runs select_key on a token built from this header; "ok" or the error code.
std::string key_error_code(const ec::json& header) {
  auto parts = ec::parse_jwt(make_token(header, base_payload()));
  REQUIRE(parts.ok());
  const auto keys = test_keys();
  auto key = ec::select_key(*parts, keys);
  return key.ok() ? "ok" : key.error().code;
}

ec::ClaimRules rules() {
  ec::ClaimRules r;
  r.issuer = "https://auth.edgechat.example";
  r.audience = "edgechat-api";
  r.now_s = kNow;
  r.leeway_s = 30;
  return r;
}

std::string claims_error_code(const ec::json& payload) {
  auto claims = ec::check_claims(payload, rules());
  return claims.ok() ? "ok" : claims.error().code;
}

ec::json with(ec::json j, const std::string& key, ec::json value) {
  j[key] = std::move(value);
  return j;
}

ec::json without(ec::json j, const std::string& key) {
  j.erase(key);
  return j;
}

}  // namespace

TEST_CASE("assembled tokens parse back to the same parts", "[jwt]") {
  const std::string input = ec::jwt_signing_input(base_header(), base_payload());
  const std::string token = ec::jwt_assemble(input, kSignature);
  CHECK(token.rfind(input + ".", 0) == 0);

  auto parts = ec::parse_jwt(token);
  REQUIRE(parts.ok());
  CHECK(parts->header == base_header());
  CHECK(parts->payload == base_payload());
  CHECK(parts->signing_input == input);
  CHECK(parts->signature == kSignature);
}

TEST_CASE("RFC 7515 A.1 token parses byte-exactly and its HMAC verifies", "[jwt]") {
  // The header and payload contain CRLF and spaces: signing_input must be the token's own bytes,
  // not a re-serialisation. Verifying the published HS256 signature with our HMAC proves that.
  const std::string token =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
      ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnV"
      "lfQ"
      ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  auto parts = ec::parse_jwt(token);
  REQUIRE(parts.ok());
  CHECK(parts->header["alg"] == "HS256");
  CHECK(parts->payload["iss"] == "joe");
  CHECK(parts->payload["exp"] == 1300819380);
  CHECK(parts->signing_input == token.substr(0, token.rfind('.')));

  auto key = ec::base64url_decode(
      "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow");
  REQUIRE(key.has_value());
  CHECK(ec::digest_bytes(ec::hmac_sha256(*key, parts->signing_input)) == parts->signature);
}

TEST_CASE("parse_jwt rejects structural problems as token_malformed", "[jwt]") {
  const std::string h = b64url(ec::dump_json(base_header()));
  const std::string p = b64url(ec::dump_json(base_payload()));
  const std::string s = b64url(kSignature);
  REQUIRE(parse_error_code(h + "." + p + "." + s) == "ok");

  SECTION("segment count") {
    CHECK(parse_error_code("") == "auth.token_malformed");
    CHECK(parse_error_code(h) == "auth.token_malformed");
    CHECK(parse_error_code(h + "." + p) == "auth.token_malformed");
    CHECK(parse_error_code(h + "." + p + "." + s + "." + s) == "auth.token_malformed");
    CHECK(parse_error_code(h + "." + p + "." + s + ".") == "auth.token_malformed");
    CHECK(parse_error_code("..") == "auth.token_malformed");
  }
  SECTION("empty signature (the unsecured-JWS form)") {
    CHECK(parse_error_code(h + "." + p + ".") == "auth.token_malformed");
  }
  SECTION("tampered payload that is no longer base64url") {
    CHECK(parse_error_code(h + "." + p + "!" + "." + s) == "auth.token_malformed");
    CHECK(parse_error_code(h + "." + p + "A" + "." + s) == "auth.token_malformed");
    CHECK(parse_error_code(h + "." + p + "==" + "." + s) == "auth.token_malformed");
    CHECK(parse_error_code(h + ". " + p + "." + s) == "auth.token_malformed");
  }
  SECTION("segments that are not JSON objects") {
    CHECK(parse_error_code(h + "." + b64url("{\"sub\":") + "." + s) == "auth.token_malformed");
    CHECK(parse_error_code(h + "." + b64url("not json") + "." + s) == "auth.token_malformed");
    CHECK(parse_error_code(h + "." + b64url("[1,2]") + "." + s) == "auth.token_malformed");
    CHECK(parse_error_code(h + "." + b64url("\"str\"") + "." + s) == "auth.token_malformed");
    CHECK(parse_error_code(b64url("null") + "." + p + "." + s) == "auth.token_malformed");
    CHECK(parse_error_code("." + p + "." + s) == "auth.token_malformed");
    // nlohmann stops at a NUL byte; the trailing bytes must not be silently ignored.
    const std::string nul_tail = ec::dump_json(base_payload()) + std::string("\0junk", 5);
    CHECK(parse_error_code(h + "." + b64url(nul_tail) + "." + s) == "auth.token_malformed");
  }
  SECTION("JSON nested deeper than a token needs") {
    std::string deep = "{\"a\":" + std::string(40, '[') + std::string(40, ']') + "}";
    CHECK(parse_error_code(h + "." + b64url(deep) + "." + s) == "auth.token_malformed");
  }
  SECTION("standard-alphabet or padded segments") {
    std::string std_sig = ec::base64_encode(std::string("\xfb\xff\xbf"));  // "+/+/"
    CHECK(parse_error_code(h + "." + p + "." + std_sig) == "auth.token_malformed");
    CHECK(parse_error_code(h + "." + p + "." + ec::base64_encode("ab")) == "auth.token_malformed");
  }
}

TEST_CASE("parse_jwt rejects non-canonical base64url in any segment", "[jwt]") {
  // In a 4n+2 or 4n+3 character segment the last character's low bit is always a spare bit, so
  // bumping it to the next alphabet letter gives a second spelling of the same bytes.
  auto bump_last = [](std::string seg) {
    constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    REQUIRE(seg.size() % 4 != 0);
    seg.back() = kAlphabet[kAlphabet.find(seg.back()) + 1];
    return seg;
  };
  // Pad header and payload with a filler member until their encodings have a partial quad.
  ec::json header = base_header();
  for (std::string pad; b64url(ec::dump_json(header)).size() % 4 == 0; pad += 'x') {
    header["x"] = pad;
  }
  ec::json payload = base_payload();
  for (std::string pad; b64url(ec::dump_json(payload)).size() % 4 == 0; pad += 'x') {
    payload["x"] = pad;
  }
  const std::string h = b64url(ec::dump_json(header));
  const std::string p = b64url(ec::dump_json(payload));
  const std::string s = b64url("\x80");  // one byte: two characters, four spare bits
  REQUIRE(parse_error_code(h + "." + p + "." + s) == "ok");

  CHECK(parse_error_code(bump_last(h) + "." + p + "." + s) == "auth.token_malformed");
  CHECK(parse_error_code(h + "." + bump_last(p) + "." + s) == "auth.token_malformed");
  CHECK(parse_error_code(h + "." + p + "." + bump_last(s)) == "auth.token_malformed");
}

TEST_CASE("parse_jwt enforces the size limit", "[jwt]") {
  // Grow a filler claim across the 8192-byte boundary: everything up to it parses, nothing past.
  // (base64 grows by 1-2 characters per byte, so the sizes seen straddle the limit by at most 2.)
  bool saw_just_under = false, saw_just_over = false;
  for (size_t filler = 5500; filler < 6300; ++filler) {
    const std::string token =
        make_token(base_header(), with(base_payload(), "pad", std::string(filler, 'p')));
    if (token.size() <= ec::kMaxJwtBytes) {
      saw_just_under = saw_just_under || token.size() + 2 > ec::kMaxJwtBytes;
      CHECK(parse_error_code(token) == "ok");
    } else {
      saw_just_over = saw_just_over || token.size() <= ec::kMaxJwtBytes + 2;
      CHECK(parse_error_code(token) == "auth.token_malformed");
    }
  }
  CHECK(saw_just_under);
  CHECK(saw_just_over);
  CHECK(parse_error_code(std::string(100000, 'A')) == "auth.token_malformed");
}

TEST_CASE("select_key picks the key by kid", "[jwt]") {
  const auto keys = test_keys();
  auto parts = ec::parse_jwt(make_token(with(base_header(), "kid", "key-2"), base_payload()));
  REQUIRE(parts.ok());
  auto key = ec::select_key(*parts, keys);
  REQUIRE(key.ok());
  CHECK(*key == &keys[1]);
}

TEST_CASE("select_key rejects unsigned tokens whatever the case of 'none'", "[jwt]") {
  CHECK(key_error_code(with(base_header(), "alg", "none")) == "auth.token_alg_none");
  CHECK(key_error_code(with(base_header(), "alg", "NONE")) == "auth.token_alg_none");
  CHECK(key_error_code(with(base_header(), "alg", "nOnE")) == "auth.token_alg_none");
}

TEST_CASE("select_key pins the key's algorithm (alg confusion)", "[jwt]") {
  CHECK(key_error_code(with(base_header(), "alg", "HS256")) == "auth.token_alg_mismatch");
  CHECK(key_error_code(with(base_header(), "alg", "rs256")) == "auth.token_alg_mismatch");
  CHECK(key_error_code(with(base_header(), "alg", "PS256")) == "auth.token_alg_mismatch");
}

TEST_CASE("select_key rejects missing, oversized and unknown kids", "[jwt]") {
  CHECK(key_error_code(with(base_header(), "kid", "key-3")) == "auth.token_unknown_kid");
  CHECK(key_error_code(without(base_header(), "kid")) == "auth.token_unknown_kid");
  CHECK(key_error_code(with(base_header(), "kid", "")) == "auth.token_unknown_kid");
  CHECK(key_error_code(with(base_header(), "kid", 1)) == "auth.token_unknown_kid");
  CHECK(key_error_code(with(base_header(), "kid", nullptr)) == "auth.token_unknown_kid");
  CHECK(key_error_code(with(base_header(), "kid", std::string(129, 'k'))) ==
        "auth.token_unknown_kid");
  CHECK(key_error_code(with(base_header(), "kid", "KEY-1")) == "auth.token_unknown_kid");
  CHECK(key_error_code(with(base_header(), "kid", "../key-1")) == "auth.token_unknown_kid");
}

TEST_CASE("select_key checks alg type, crit and typ", "[jwt]") {
  CHECK(key_error_code(without(base_header(), "alg")) == "auth.token_malformed");
  CHECK(key_error_code(with(base_header(), "alg", 256)) == "auth.token_malformed");
  CHECK(key_error_code(with(base_header(), "crit", ec::json::array({"exp"}))) ==
        "auth.token_malformed");
  CHECK(key_error_code(with(base_header(), "typ", "JOSE")) == "auth.token_malformed");
  CHECK(key_error_code(with(base_header(), "typ", "secevent+jwt")) == "auth.token_malformed");
  CHECK(key_error_code(with(base_header(), "typ", 1)) == "auth.token_malformed");
  CHECK(key_error_code(with(base_header(), "typ", nullptr)) == "auth.token_malformed");
  CHECK(key_error_code(with(base_header(), "typ", "jwt")) == "ok");
  CHECK(key_error_code(with(base_header(), "typ", "AT+JWT")) == "ok");
  CHECK(key_error_code(without(base_header(), "typ")) == "ok");
}

TEST_CASE("check_claims accepts a valid payload and extracts the claims", "[jwt][claims]") {
  auto claims = ec::check_claims(base_payload(), rules());
  REQUIRE(claims.ok());
  CHECK(claims->sub == "user-42");
  CHECK(claims->jti == "tok-7f3a");
  CHECK(claims->sid == "sess-9");
  CHECK(claims->role == "member");
  CHECK(claims->iat == kNow - 60);
  CHECK(claims->exp == kNow + 840);

  // Every claim the server issues is required: a token without its session cannot be revoked.
  for (const char* claim : {"sid", "role", "nbf", "iat", "exp", "sub", "jti", "iss", "aud"}) {
    INFO(claim);
    CHECK(claims_error_code(without(base_payload(), claim)) == "auth.token_invalid_claims");
  }
}

TEST_CASE("check_claims enforces the time window with leeway", "[jwt][claims]") {
  CHECK(claims_error_code(with(base_payload(), "exp", kNow - 31)) == "auth.token_expired");
  CHECK(claims_error_code(with(base_payload(), "exp", kNow - 30)) == "ok");  // within leeway
  CHECK(claims_error_code(with(base_payload(), "nbf", kNow + 31)) == "auth.token_not_yet_valid");
  CHECK(claims_error_code(with(base_payload(), "nbf", kNow + 30)) == "ok");
  CHECK(claims_error_code(with(base_payload(), "nbf", kNow - 100)) == "ok");
  CHECK(claims_error_code(with(base_payload(), "iat", kNow + 31)) == "auth.token_not_yet_valid");
  CHECK(claims_error_code(with(base_payload(), "iat", kNow + 30)) == "ok");
  // Extreme values must not overflow (UBSan runs these tests).
  CHECK(claims_error_code(with(base_payload(), "exp", std::numeric_limits<int64_t>::max())) ==
        "ok");
  CHECK(claims_error_code(with(base_payload(), "exp", std::numeric_limits<int64_t>::min())) ==
        "auth.token_expired");
  CHECK(claims_error_code(with(base_payload(), "nbf", std::numeric_limits<int64_t>::max())) ==
        "auth.token_not_yet_valid");
  CHECK(claims_error_code(with(base_payload(), "exp", std::numeric_limits<uint64_t>::max())) !=
        "ok");
}

TEST_CASE("check_claims matches aud as a string or an array member", "[jwt][claims]") {
  CHECK(claims_error_code(
            with(base_payload(), "aud", ec::json::array({"other", "edgechat-api"}))) == "ok");
  CHECK(claims_error_code(with(base_payload(), "aud", ec::json::array({"other"}))) ==
        "auth.token_invalid_claims");
  CHECK(claims_error_code(with(base_payload(), "aud", ec::json::array())) ==
        "auth.token_invalid_claims");
  CHECK(claims_error_code(with(base_payload(), "aud", ec::json::array({1, nullptr}))) ==
        "auth.token_invalid_claims");
  CHECK(claims_error_code(with(base_payload(), "aud", "edgechat-api-2")) ==
        "auth.token_invalid_claims");
  CHECK(claims_error_code(without(base_payload(), "aud")) == "auth.token_invalid_claims");
}

TEST_CASE("check_claims rejects wrong issuer and missing or mistyped claims", "[jwt][claims]") {
  const std::string invalid = "auth.token_invalid_claims";
  CHECK(claims_error_code(with(base_payload(), "iss", "https://evil.example")) == invalid);
  CHECK(claims_error_code(with(base_payload(), "iss", ec::json::array({"x"}))) == invalid);
  CHECK(claims_error_code(without(base_payload(), "iss")) == invalid);
  CHECK(claims_error_code(without(base_payload(), "sub")) == invalid);
  CHECK(claims_error_code(with(base_payload(), "sub", "")) == invalid);
  CHECK(claims_error_code(with(base_payload(), "sub", 42)) == invalid);
  CHECK(claims_error_code(without(base_payload(), "jti")) == invalid);
  CHECK(claims_error_code(with(base_payload(), "jti", "")) == invalid);
  CHECK(claims_error_code(without(base_payload(), "exp")) == invalid);
  CHECK(claims_error_code(with(base_payload(), "exp", std::to_string(kNow + 840))) == invalid);
  CHECK(claims_error_code(with(base_payload(), "exp", kNow + 840.5)) == invalid);
  CHECK(claims_error_code(without(base_payload(), "iat")) == invalid);
  CHECK(claims_error_code(with(base_payload(), "iat", true)) == invalid);
  CHECK(claims_error_code(with(base_payload(), "nbf", "soon")) == invalid);
  CHECK(claims_error_code(with(base_payload(), "nbf", nullptr)) == invalid);
  CHECK(claims_error_code(with(base_payload(), "sid", 9)) == invalid);
  CHECK(claims_error_code(with(base_payload(), "role", ec::json::object())) == invalid);
  CHECK(claims_error_code(ec::json::array()) == invalid);
}

TEST_CASE("claim errors name the claim but never echo token content", "[jwt][claims]") {
  auto bad =
      ec::check_claims(with(base_payload(), "iss", "https://evil.example/<script>"), rules());
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().status == 401);
  CHECK(bad.error().message.find("iss") != std::string::npos);
  CHECK(bad.error().message.find("evil") == std::string::npos);
}

TEST_CASE("check_claims fails closed when issuer or audience is not configured", "[jwt][claims]") {
  ec::ClaimRules r = rules();
  r.issuer.clear();
  auto result = ec::check_claims(with(base_payload(), "iss", ""), r);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().status == 500);
}

TEST_CASE("full pipeline: parse, select key, check claims", "[jwt]") {
  const auto keys = test_keys();
  auto parts = ec::parse_jwt(make_token(base_header(), base_payload()));
  REQUIRE(parts.ok());
  auto key = ec::select_key(*parts, keys);
  REQUIRE(key.ok());
  CHECK((*key)->kid == "key-1");
  // (the host verifies parts->signature over parts->signing_input with (*key)->public_jwk here)
  auto claims = ec::check_claims(parts->payload, rules());
  REQUIRE(claims.ok());
  CHECK(claims->sub == "user-42");
}
