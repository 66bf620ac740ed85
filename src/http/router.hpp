// Request routing: a segment trie built once at startup and matched per request. The router only
// maps (method, path) to a route index; the caller owns the handler table, so this file knows
// nothing about handlers, middleware or coroutines.
//
// Semantics (tests/native/test_router.cpp is the executable spec):
//   - patterns are '/'-separated segments: literals, ":name" params, and a final "*" that
//     captures the rest of the path (possibly empty) as param "*";
//   - at each segment a literal beats a param beats a wildcard, with backtracking, so "/a/:x/c"
//     and "/a/b/d" both match their own paths;
//   - literals are compared against the raw (still percent-encoded) segment, so no decoding can
//     turn a request into a different route; only captured params are decoded;
//   - "." and ".." are ordinary text: there is no normalisation that could escape a prefix;
//   - one trailing slash is ignored ("/health/" == "/health"); empty segments never match.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ec {

enum class Method : uint8_t { Get, Head, Post, Put, Patch, Delete, Options };
inline constexpr int kMethodCount = 7;

// Exact, case-sensitive match on the upper-case token (RFC 9110 §9.1: methods are
// case-sensitive). Anything else, including WebDAV/CONNECT/TRACE, is nullopt.
std::optional<Method> parse_method(std::string_view name);
std::string_view method_name(Method method);

struct Match {
  enum Kind { Found, NotFound, MethodNotAllowed };
  Kind kind = NotFound;
  int route = -1;  // index returned by Router::add, when Found
  std::vector<std::pair<std::string, std::string>> params;  // decoded, in pattern order
  // On MethodNotAllowed: every method that would be Found for this path, in enum order, plus
  // HEAD when GET is there and always OPTIONS, ready for an `Allow` header.
  std::vector<Method> allowed;
  std::string pattern;  // the route's pattern, for logs and metrics (never the raw path)

  // Decoded value of a named param ("*" for the wildcard), or nullptr.
  const std::string* param(std::string_view name) const;
};

class Router {
 public:
  static constexpr size_t kMaxPathBytes = 2048;
  static constexpr size_t kMaxSegments = 32;

  // Registers a route and returns its index (0, 1, 2, … in insertion order). Returns -1 for a
  // malformed pattern (no leading '/', empty segment, bad param name, '*' not last, duplicate
  // param name) or a duplicate (method, pattern): routes are constants, so the caller treats -1
  // as a startup bug.
  int add(Method method, std::string_view pattern);

  // HEAD falls back to the GET route of the same path when no HEAD route is registered; the
  // caller then sends the GET response's headers without a body.
  Match match(Method method, std::string_view path) const;

 private:
  struct Node {
    std::vector<std::pair<std::string, uint32_t>> literals;  // sorted by (length, text)
    int32_t param_child = -1;
    std::array<int32_t, kMethodCount> exact;     // route ending here, per method (-1: none)
    std::array<int32_t, kMethodCount> wildcard;  // route "<this node>/*", per method
    uint8_t exact_mask = 0;
    uint8_t wildcard_mask = 0;
    Node() {
      exact.fill(-1);
      wildcard.fill(-1);
    }
  };
  struct Route {
    std::string pattern;
    std::vector<std::pair<uint8_t, std::string>> params;  // (segment index, name)
    int wildcard_from = -1;  // segment index where "*" starts capturing, or -1
  };
  // The request path's segments as offsets into it. The span array is deliberately left
  // uninitialised (only [0, count) is read): zeroing it dominated the cost of a match.
  struct Segments {
    struct Span {
      uint16_t pos;
      uint16_t len;
    };
    std::string_view path;  // without the ignored trailing slash
    size_t count = 0;
    std::array<Span, kMaxSegments> spans;
    std::string_view seg(size_t i) const { return path.substr(spans[i].pos, spans[i].len); }
  };

  static bool split_path(std::string_view path, Segments& out);
  uint32_t literal_child(uint32_t node, std::string_view segment);
  int find(uint32_t node, size_t depth, const Segments& segs, Method method) const;
  uint8_t methods_for(uint32_t node, size_t depth, const Segments& segs) const;
  bool fill_params(const Route& route, const Segments& segs, Match& out) const;

  std::vector<Node> nodes_ = std::vector<Node>(1);  // nodes_[0] is the root ("/")
  std::vector<Route> routes_;
};

}  // namespace ec
