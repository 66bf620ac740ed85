// Worker-signed URLs: the wire format is pinned by a vector computed outside this code (Python's
// hmac/hashlib/base64/urllib.parse.quote(safe="-._~") over the documented canonical string), and
// every parameter is tampered with one at a time.
#include <catch2/catch.hpp>

#include "crypto/encoding.hpp"
#include "crypto/sha256.hpp"
#include "files/presign.hpp"

#include <string>
#include <vector>

using namespace ec;

namespace {

constexpr const char* kSecret = "test-secret-please-change";
constexpr const char* kKey = "u1/d1/r\xC3\xA9sum\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC+&=.pdf";

PresignGrant grant() {
  PresignGrant g;
  g.method = "PUT";
  g.key = kKey;
  g.expires_s = 1700000900;
  g.max_bytes = 10485760;
  g.content_type = "application/pdf";
  g.grant_id = "gid_Ab9-x";
  return g;
}

std::string query_of(const std::string& url) { return url.substr(url.find('?') + 1); }

Result<PresignGrant> verify(std::string_view method, const std::string& query,
                            int64_t now = 1700000000) {
  return verify_worker_url(method, query, now, kSecret);
}

std::string code_of(const Result<PresignGrant>& r) { return r.ok() ? "ok" : r.error().code; }

// Replaces the first occurrence of from (which must exist) with to.
std::string replace(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("presign: canonical string and URL match the externally computed vector", "[presign]") {
  const std::string canonical = presign_canonical_string(grant());
  CHECK(canonical ==
        "v1\nPUT\nu1%2Fd1%2Fr%C3%A9sum%C3%A9%20%E6%97%A5%E6%9C%AC%2B%26%3D.pdf\n1700000900\n"
        "10485760\napplication%2Fpdf\ngid_Ab9-x");
  CHECK(base64url_encode(digest_bytes(hmac_sha256(kSecret, canonical))) ==
        "mT38SZ1UodKug25B9OVX8zSPJ2RqTthnlIFV2nAz6OE");
  CHECK(presign_worker_url("http://127.0.0.1:8787", "/api/r2/upload", grant(), kSecret) ==
        "http://127.0.0.1:8787/api/r2/upload?key=u1%2Fd1%2Fr%C3%A9sum%C3%A9%20%E6%97%A5%E6%9C%AC%"
        "2B%26%3D.pdf&exp=1700000900&max=10485760&ct=application%2Fpdf&gid=gid_Ab9-x&sig="
        "mT38SZ1UodKug25B9OVX8zSPJ2RqTthnlIFV2nAz6OE");
}

TEST_CASE("presign: base URL forms", "[presign]") {
  const std::string q = query_of(presign_worker_url("https://h", "/p", grant(), kSecret));
  CHECK(presign_worker_url("https://edge.example.com/", "/api/r2/upload", grant(), kSecret) ==
        "https://edge.example.com/api/r2/upload?" + q);
  CHECK(presign_worker_url("https://edge.example.com", "api/r2/upload", grant(), kSecret) ==
        "https://edge.example.com/api/r2/upload?" + q);
}

TEST_CASE("presign: round trip returns the grant", "[presign]") {
  const std::string url = presign_worker_url("https://h", "/api/r2/upload", grant(), kSecret);
  Result<PresignGrant> r = verify("PUT", query_of(url));
  REQUIRE(r.ok());
  CHECK(r->method == "PUT");
  CHECK(r->key == kKey);
  CHECK(r->expires_s == 1700000900);
  CHECK(r->max_bytes == 10485760);
  CHECK(r->content_type == "application/pdf");
  CHECK(r->grant_id == "gid_Ab9-x");
}

TEST_CASE("presign: awkward keys and empty fields round-trip", "[presign]") {
  const std::vector<std::string> keys = {
      "u1/d1/a+b c.txt", "u1/d1/100%.txt",         "u1/d1/q?x#y",  "u1/d1/~._-",
      "u1/d1/a%2Fb",     "u1/d1/\xF0\x9F\x98\x80", "u1/d1/a&sig=x"};
  for (const std::string& key : keys) {
    INFO("key: " << key);
    PresignGrant g = grant();
    g.key = key;
    g.content_type = "";
    g.max_bytes = 0;
    g.grant_id = "";
    Result<PresignGrant> r = verify("PUT", query_of(presign_worker_url("h", "/", g, kSecret)));
    REQUIRE(r.ok());
    CHECK(r->key == key);
    CHECK(r->content_type.empty());
    CHECK(r->max_bytes == 0);
  }
}

TEST_CASE("presign: any tampered parameter is a bad signature", "[presign]") {
  const std::string q = query_of(presign_worker_url("h", "/", grant(), kSecret));
  REQUIRE(code_of(verify("PUT", q)) == "ok");
  const std::vector<std::pair<std::string, std::string>> tampers = {
      {"key=u1%2F", "key=u2%2F"},
      {"key=u1%2Fd1", "key=u1%2Fd2"},
      {".pdf&", ".pdx&"},
      {"exp=1700000900", "exp=1700000901"},
      {"exp=1700000900", "exp=9999999999"},
      {"max=10485760", "max=10485761"},
      {"max=10485760", "max=0"},
      {"ct=application%2Fpdf", "ct=text%2Fhtml"},
      {"ct=application%2Fpdf", "ct="},
      {"gid=gid_Ab9-x", "gid=gid_Ab9-y"},
      {"sig=mT38", "sig=nT38"},
      {"6OE", "6OF"},
      {"6OE", "6OE="},                        // padded spelling of the same MAC
      {"6OE", "6O"},                          // truncated
      {"6OE", "6OEA"},                        // extended
      {"exp=1700000900", "exp=01700000900"},  // same number, second spelling
      {"exp=1700000900", "exp=%2B1700000900"},
      {"max=10485760", "max=010485760"},
  };
  for (const auto& [from, to] : tampers) {
    INFO(from << " -> " << to);
    Result<PresignGrant> r = verify("PUT", replace(q, from, to));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().status == 403);
    CHECK(r.error().code == "files.bad_signature");
  }
}

TEST_CASE("presign: missing or duplicated parameters are refused", "[presign]") {
  const std::string q = query_of(presign_worker_url("h", "/", grant(), kSecret));
  const std::vector<std::string> names = {"key", "exp", "max", "ct", "gid", "sig"};
  for (const std::string& name : names) {
    INFO("param: " << name);
    const size_t start = q.find(name + "=");
    REQUIRE(start != std::string::npos);
    const size_t end = q.find('&', start);
    const std::string pair = q.substr(start, end == std::string::npos ? end : end - start);
    std::string without = q;
    without.erase(start, pair.size());
    CHECK(code_of(verify("PUT", without)) == "files.bad_signature");
    CHECK(code_of(verify("PUT", q + "&" + pair)) == "files.bad_signature");  // same value twice
  }
  CHECK(code_of(verify("PUT", q + "&key=u2%2Fx")) == "files.bad_signature");
  CHECK(code_of(verify("PUT", "key=u2%2Fx&" + q)) == "files.bad_signature");
  CHECK(code_of(verify("PUT", q + "&unrelated=1")) == "ok");  // unknown params are not bound
  CHECK(code_of(verify("PUT", "")) == "files.bad_signature");
}

TEST_CASE("presign: secret and method are bound", "[presign]") {
  const std::string q = query_of(presign_worker_url("h", "/", grant(), kSecret));
  CHECK(code_of(verify_worker_url("PUT", q, 1700000000, "other-secret")) == "files.bad_signature");
  CHECK(code_of(verify_worker_url("PUT", q, 1700000000, "")) == "files.bad_signature");
  CHECK(code_of(verify("GET", q)) == "files.bad_signature");
  CHECK(code_of(verify("put", q)) == "files.bad_signature");
  CHECK(code_of(verify("POST", q)) == "files.bad_signature");

  PresignGrant g = grant();
  g.method = "GET";
  const std::string get_q = query_of(presign_worker_url("h", "/", g, kSecret));
  CHECK(code_of(verify("GET", get_q)) == "ok");
  CHECK(code_of(verify("PUT", get_q)) == "files.bad_signature");

  // An empty secret signs nothing that verifies.
  const std::string empty_q = query_of(presign_worker_url("h", "/", grant(), ""));
  CHECK(code_of(verify_worker_url("PUT", empty_q, 1700000000, "")) == "files.bad_signature");
}

TEST_CASE("presign: expiry boundary", "[presign]") {
  const std::string q = query_of(presign_worker_url("h", "/", grant(), kSecret));
  CHECK(code_of(verify("PUT", q, 1700000899)) == "ok");  // last valid second
  Result<PresignGrant> at = verify("PUT", q, 1700000900);
  REQUIRE_FALSE(at.ok());
  CHECK(at.error().status == 403);
  CHECK(at.error().code == "files.url_expired");
  CHECK(code_of(verify("PUT", q, 1700000901)) == "files.url_expired");
  // A forged URL learns nothing about expiry: the MAC is checked first.
  CHECK(code_of(verify("PUT", replace(q, "6OE", "6OF"), 1800000000)) == "files.bad_signature");
}

TEST_CASE("presign: negative and extreme integers keep one spelling", "[presign]") {
  PresignGrant g = grant();
  g.expires_s = INT64_MAX;
  g.max_bytes = -1;
  std::string q = query_of(presign_worker_url("h", "/", g, kSecret));
  Result<PresignGrant> r = verify("PUT", q);
  REQUIRE(r.ok());
  CHECK(r->expires_s == INT64_MAX);
  CHECK(r->max_bytes == -1);
  CHECK(code_of(verify("PUT", replace(q, "max=-1", "max=-01"))) == "files.bad_signature");
  CHECK(code_of(verify("PUT", replace(q, "exp=9223372036854775807", "exp=9223372036854775808"))) ==
        "files.bad_signature");

  g.max_bytes = 0;
  q = query_of(presign_worker_url("h", "/", g, kSecret));
  CHECK(code_of(verify("PUT", replace(q, "max=0", "max=-0"))) == "files.bad_signature");
  CHECK(code_of(verify("PUT", replace(q, "max=0", "max="))) == "files.bad_signature");
}

TEST_CASE("presign: size limit", "[presign]") {
  PresignGrant g = grant();
  CHECK(grant_allows_size(g, 10485760));
  CHECK_FALSE(grant_allows_size(g, 10485761));
  CHECK_FALSE(grant_allows_size(g, -1));
  g.max_bytes = 0;
  CHECK(grant_allows_size(g, int64_t{1} << 40));
}
