// The router's behaviour as a table: each row is a request and what it must resolve to.
#include <catch2/catch.hpp>

#include "http/router.hpp"

#include <map>
#include <string>
#include <utility>
#include <vector>

using ec::Match;
using ec::Method;
using ec::Router;

namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

constexpr Method GET = Method::Get;
constexpr Method HEAD = Method::Head;
constexpr Method POST = Method::Post;
constexpr Method PUT = Method::Put;
constexpr Method PATCH = Method::Patch;
constexpr Method DELETE = Method::Delete;
constexpr Method OPTIONS = Method::Options;

const std::pair<Method, const char*> kRoutes[] = {
    {GET, "/"},
    {GET, "/health"},
    {GET, "/api/v1/chats"},
    {POST, "/api/v1/chats"},
    {GET, "/api/v1/chats/:id"},
    {PATCH, "/api/v1/chats/:id"},
    {DELETE, "/api/v1/chats/:id"},
    {GET, "/api/v1/chats/:chat/messages/:msg"},
    {GET, "/files/*"},
    {PUT, "/files/*"},
    {GET, "/users/:id/files/*"},
    {GET, "/a/:x/c"},
    {GET, "/a/b/d"},
    {GET, "/p/static"},
    {GET, "/p/:name"},
    {GET, "/p/*"},
    {POST, "/m/literal"},
    {GET, "/m/:x"},
    {GET, "/explicit-head"},
    {HEAD, "/explicit-head"},
    {POST, "/only-post"},
};

struct Fixture {
  Router router;
  std::map<std::string, int> index;  // "GET /health" -> route index
  Fixture() {
    for (const auto& [method, pattern] : kRoutes) {
      int i = router.add(method, pattern);
      REQUIRE(i == static_cast<int>(index.size()));  // 0, 1, 2, ... in insertion order
      index[std::string(ec::method_name(method)) + " " + pattern] = i;
    }
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

std::string repeat(const std::string& s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

}  // namespace

TEST_CASE("router: requests that resolve to a route", "[router]") {
  struct Row {
    Method method;
    std::string path;
    const char* route;  // "<METHOD> <pattern>" of the expected route
    Params params;
  };
  const Row rows[] = {
      // static
      {GET, "/", "GET /", {}},
      {GET, "/health", "GET /health", {}},
      {GET, "/api/v1/chats", "GET /api/v1/chats", {}},
      {POST, "/api/v1/chats", "POST /api/v1/chats", {}},
      // params
      {GET, "/api/v1/chats/c42", "GET /api/v1/chats/:id", {{"id", "c42"}}},
      {DELETE, "/api/v1/chats/c42", "DELETE /api/v1/chats/:id", {{"id", "c42"}}},
      {GET,
       "/api/v1/chats/c1/messages/m2",
       "GET /api/v1/chats/:chat/messages/:msg",
       {{"chat", "c1"}, {"msg", "m2"}}},
      // wildcard: the rest of the path, possibly empty
      {GET, "/files/a/b/c.txt", "GET /files/*", {{"*", "a/b/c.txt"}}},
      {GET, "/files/x", "GET /files/*", {{"*", "x"}}},
      {GET, "/files", "GET /files/*", {{"*", ""}}},
      {GET, "/files/", "GET /files/*", {{"*", ""}}},
      {PUT, "/files/doc.pdf", "PUT /files/*", {{"*", "doc.pdf"}}},
      {GET, "/users/u1/files/a/b", "GET /users/:id/files/*", {{"id", "u1"}, {"*", "a/b"}}},
      // priority: literal > param > wildcard, with backtracking
      {GET, "/p/static", "GET /p/static", {}},
      {GET, "/p/other", "GET /p/:name", {{"name", "other"}}},
      {GET, "/p/x/y", "GET /p/*", {{"*", "x/y"}}},
      {GET, "/a/b/d", "GET /a/b/d", {}},
      {GET, "/a/b/c", "GET /a/:x/c", {{"x", "b"}}},  // literal "b" leads nowhere: backtrack
      {GET, "/a/z/c", "GET /a/:x/c", {{"x", "z"}}},
      {GET, "/m/literal", "GET /m/:x", {{"x", "literal"}}},  // literal has no GET: backtrack
      // HEAD falls back to GET unless a HEAD route exists
      {HEAD, "/health", "GET /health", {}},
      {HEAD, "/files/a", "GET /files/*", {{"*", "a"}}},
      {HEAD, "/explicit-head", "HEAD /explicit-head", {}},
      {GET, "/explicit-head", "GET /explicit-head", {}},
      // one trailing slash is ignored
      {GET, "/health/", "GET /health", {}},
      {GET, "/api/v1/chats/c42/", "GET /api/v1/chats/:id", {{"id", "c42"}}},
      // params are percent-decoded; literals are not ('+' is not a space in paths)
      {GET, "/api/v1/chats/hello%20world", "GET /api/v1/chats/:id", {{"id", "hello world"}}},
      {GET, "/api/v1/chats/caf%C3%A9", "GET /api/v1/chats/:id", {{"id", "caf\xC3\xA9"}}},
      {GET, "/api/v1/chats/a+b", "GET /api/v1/chats/:id", {{"id", "a+b"}}},
      {GET, "/files/my%20docs/a%25b", "GET /files/*", {{"*", "my docs/a%b"}}},
      // "." and ".." are plain text: nothing is normalised away
      {GET, "/api/v1/chats/..", "GET /api/v1/chats/:id", {{"id", ".."}}},
      {GET, "/api/v1/chats/%2e%2e", "GET /api/v1/chats/:id", {{"id", ".."}}},
      {GET, "/files/../secret", "GET /files/*", {{"*", "../secret"}}},
      {GET, "/a/../c", "GET /a/:x/c", {{"x", ".."}}},
      // limits: exactly 2048 bytes and exactly 32 segments are fine
      {GET,
       "/files/" + std::string(2048 - 7, 'x'),
       "GET /files/*",
       {{"*", std::string(2048 - 7, 'x')}}},
      {GET, "/files" + repeat("/s", 31), "GET /files/*", {{"*", repeat("s/", 30) + "s"}}},
  };
  const Fixture& f = fixture();
  for (const Row& row : rows) {
    INFO(ec::method_name(row.method) << " " << row.path);
    Match m = f.router.match(row.method, row.path);
    REQUIRE(m.kind == Match::Found);
    CHECK(m.route == f.index.at(row.route));
    CHECK(m.pattern == std::string(row.route).substr(std::string(row.route).find(' ') + 1));
    CHECK(m.params == row.params);
    CHECK(m.allowed.empty());
  }
}

TEST_CASE("router: requests that match nothing", "[router]") {
  const std::string rows[] = {
      "",        // not a path
      "health",  // no leading slash
      "/nope",
      "/health/extra",
      "//health",   // empty segments never match
      "/health//",  // only one trailing slash is forgiven
      "/api//v1/chats",
      "/api/v1/chats//",
      "/%68ealth",                             // literals are compared undecoded
      "/HEALTH",                               // and case-sensitively
      "/a/z/d",                                // neither /a/b/d nor /a/:x/c
      "/api/v1/chats/../../health",            // no ".." normalisation
      "/api/v1/chats/a%2Fb",                   // a param may not decode to '/'
      "/files/a%2fb",                          // nor may the wildcard gain a '/'
      "/api/v1/chats/%zz",                     // malformed escape
      "/api/v1/chats/%4",                      // truncated escape
      "/api/v1/chats/a%00",                    // decoded NUL
      "/files/" + std::string(2048 - 6, 'x'),  // 2049 bytes
      "/files" + repeat("/s", 32),             // 33 segments
      "/" + repeat("x/", 5000),                // long and deep
  };
  const Fixture& f = fixture();
  for (const std::string& path : rows) {
    INFO("GET " << path.substr(0, 80));
    Match m = f.router.match(GET, path);
    CHECK(m.kind == Match::NotFound);
    CHECK(m.route == -1);
    CHECK(m.params.empty());
    CHECK(m.pattern.empty());
  }
}

TEST_CASE("router: 405 lists every method that would match, plus HEAD and OPTIONS", "[router]") {
  struct Row {
    Method method;
    const char* path;
    std::vector<Method> allowed;
  };
  const Row rows[] = {
      {DELETE, "/health", {GET, HEAD, OPTIONS}},
      {POST, "/health/", {GET, HEAD, OPTIONS}},
      {OPTIONS, "/health", {GET, HEAD, OPTIONS}},  // the caller answers OPTIONS with Allow
      {PUT, "/api/v1/chats", {GET, HEAD, POST, OPTIONS}},
      {PUT, "/api/v1/chats/c1", {GET, HEAD, PATCH, DELETE, OPTIONS}},
      {GET, "/only-post", {POST, OPTIONS}},  // no GET, so no HEAD either
      {HEAD, "/only-post", {POST, OPTIONS}},
      {POST, "/files/x/y", {GET, HEAD, PUT, OPTIONS}},
      {POST, "/p/static", {GET, HEAD, OPTIONS}},           // union over /p/static, /p/:name, /p/*
      {DELETE, "/m/literal", {GET, HEAD, POST, OPTIONS}},  // union over /m/literal and /m/:x
      {POST, "/explicit-head", {GET, HEAD, OPTIONS}},
  };
  const Fixture& f = fixture();
  for (const Row& row : rows) {
    INFO(ec::method_name(row.method) << " " << row.path);
    Match m = f.router.match(row.method, row.path);
    REQUIRE(m.kind == Match::MethodNotAllowed);
    CHECK(m.allowed == row.allowed);
    CHECK(m.route == -1);
    CHECK(m.pattern.empty());
  }
}

TEST_CASE("router: malformed and duplicate patterns are rejected", "[router]") {
  Router r;
  CHECK(r.add(GET, "/") == 0);
  CHECK(r.add(GET, "/x/:id") == 1);
  CHECK(r.add(POST, "/x/:other") == 2);  // a param slot may carry different names per route
  const char* bad[] = {
      "", "x", "/x/", "//x", "/x//y", "/:", "/:a-b", "/:a/:a", "/*/x", "/x/*/*",
  };
  for (const char* pattern : bad) {
    INFO(pattern);
    CHECK(r.add(GET, pattern) == -1);
  }
  CHECK(r.add(GET, "/") == -1);         // duplicate
  CHECK(r.add(GET, "/x/:name") == -1);  // same shape as /x/:id: unreachable
  CHECK(r.add(GET, "/x/:id/*") == 3);   // rejected patterns did not consume indices

  Match m = r.match(POST, "/x/7");
  REQUIRE(m.kind == Match::Found);
  CHECK(m.params == Params{{"other", "7"}});
  CHECK(*m.param("other") == "7");
  CHECK(m.param("id") == nullptr);
}

TEST_CASE("router: an empty router finds nothing", "[router]") {
  Router r;
  CHECK(r.match(GET, "/").kind == Match::NotFound);
  CHECK(r.match(GET, "/x").kind == Match::NotFound);
}

TEST_CASE("parse_method and method_name round-trip", "[router]") {
  for (Method m : {GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS}) {
    CHECK(ec::parse_method(ec::method_name(m)) == m);
  }
  CHECK(ec::method_name(PATCH) == "PATCH");
  for (const char* bad : {"get", "Patch", "TRACE", "CONNECT", "PROPFIND", "", "GET "}) {
    INFO(bad);
    CHECK(ec::parse_method(bad) == std::nullopt);
  }
}
