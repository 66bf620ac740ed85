#include "http/router.hpp"

#include "http/url.hpp"

#include <algorithm>

namespace ec {

namespace {

constexpr std::array<std::string_view, kMethodCount> kMethodNames = {
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};

constexpr uint8_t bit(Method m) { return static_cast<uint8_t>(1u << static_cast<unsigned>(m)); }
constexpr size_t idx(Method m) { return static_cast<size_t>(m); }

bool valid_param_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// Literal children are ordered by (length, bytes), not lexicographically: most siblings differ
// in length, so the binary search mostly compares integers and rarely calls memcmp.
bool literal_less(const std::pair<std::string, uint32_t>& entry, std::string_view segment) {
  if (entry.first.size() != segment.size()) return entry.first.size() < segment.size();
  return std::string_view(entry.first) < segment;
}

// The route for `method` in a per-method table, applying the HEAD -> GET fallback.
int32_t route_for(const std::array<int32_t, kMethodCount>& table, Method method) {
  int32_t r = table[idx(method)];
  if (r < 0 && method == Method::Head) r = table[idx(Method::Get)];
  return r;
}

// Decodes a captured path piece. A decoded '/' would let "%2F" smuggle an extra segment into a
// value the handler believes is a single segment (e.g. an R2 key prefix), so it is rejected.
std::optional<std::string> decode_capture(std::string_view raw) {
  // Fast path for the common case, an id or a key with nothing escaped.
  if (raw.find_first_of(std::string_view("%\0", 2)) == std::string_view::npos) {
    return std::string(raw);
  }
  std::optional<std::string> decoded = percent_decode(raw, /*plus_as_space=*/false);
  if (!decoded) return std::nullopt;
  size_t raw_slashes = static_cast<size_t>(std::count(raw.begin(), raw.end(), '/'));
  size_t slashes = static_cast<size_t>(std::count(decoded->begin(), decoded->end(), '/'));
  if (slashes != raw_slashes) return std::nullopt;
  return decoded;
}

}  // namespace

std::optional<Method> parse_method(std::string_view name) {
  for (size_t i = 0; i < kMethodNames.size(); ++i) {
    if (kMethodNames[i] == name) return static_cast<Method>(i);
  }
  return std::nullopt;
}

std::string_view method_name(Method method) { return kMethodNames[idx(method)]; }

const std::string* Match::param(std::string_view name) const {
  for (const auto& [key, value] : params) {
    if (key == name) return &value;
  }
  return nullptr;
}

bool Router::split_path(std::string_view path, Segments& out) {
  if (path.empty() || path.front() != '/' || path.size() > kMaxPathBytes) return false;
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  out.path = path;
  out.count = 0;
  if (path.size() == 1) return true;  // "/": the root, zero segments
  size_t pos = 1;
  while (true) {
    size_t slash = path.find('/', pos);
    size_t end = slash == std::string_view::npos ? path.size() : slash;
    if (end == pos || out.count == kMaxSegments) return false;  // empty segment, or too deep
    static_assert(kMaxPathBytes <= UINT16_MAX, "segment offsets are uint16_t");
    out.spans[out.count++] = {static_cast<uint16_t>(pos), static_cast<uint16_t>(end - pos)};
    if (slash == std::string_view::npos) return true;
    pos = slash + 1;
  }
}

uint32_t Router::literal_child(uint32_t node, std::string_view segment) {
  auto& lits = nodes_[node].literals;
  auto it = std::lower_bound(lits.begin(), lits.end(), segment, literal_less);
  if (it != lits.end() && it->first == segment) return it->second;
  auto child = static_cast<uint32_t>(nodes_.size());
  // Insert before growing nodes_: `lits` refers into nodes_, which push_back may reallocate.
  lits.emplace(it, std::string(segment), child);
  nodes_.emplace_back();
  return child;
}

int Router::add(Method method, std::string_view pattern) {
  Segments segs;
  // Patterns obey the request-path grammar, except that a trailing slash is an error rather
  // than ignored: a pattern should be written one way.
  if ((pattern.size() > 1 && pattern.back() == '/') || !split_path(pattern, segs)) return -1;

  // Validate the whole pattern before touching the trie, so a rejected pattern leaves no trace.
  Route route;
  route.pattern = std::string(pattern);
  for (size_t i = 0; i < segs.count; ++i) {
    std::string_view s = segs.seg(i);
    if (s == "*") {
      if (i + 1 != segs.count) return -1;
      route.wildcard_from = static_cast<int>(i);
    } else if (s.front() == ':') {
      std::string_view name = s.substr(1);
      if (!valid_param_name(name)) return -1;
      for (const auto& p : route.params) {
        if (p.second == name) return -1;
      }
      route.params.emplace_back(static_cast<uint8_t>(i), std::string(name));
    }
  }

  uint32_t node = 0;
  size_t literal_end = route.wildcard_from >= 0 ? segs.count - 1 : segs.count;
  for (size_t i = 0; i < literal_end; ++i) {
    std::string_view s = segs.seg(i);
    if (s.front() != ':') {
      node = literal_child(node, s);
      continue;
    }
    if (nodes_[node].param_child < 0) {
      nodes_[node].param_child = static_cast<int32_t>(nodes_.size());
      nodes_.emplace_back();
    }
    node = static_cast<uint32_t>(nodes_[node].param_child);
  }

  Node& n = nodes_[node];
  auto& table = route.wildcard_from >= 0 ? n.wildcard : n.exact;
  uint8_t& mask = route.wildcard_from >= 0 ? n.wildcard_mask : n.exact_mask;
  if (table[idx(method)] >= 0) return -1;
  auto index = static_cast<int32_t>(routes_.size());
  table[idx(method)] = index;
  mask = static_cast<uint8_t>(mask | bit(method));
  routes_.push_back(std::move(route));
  return index;
}

// Depth-first in priority order (literal, param, wildcard); the first route accepting `method`
// wins. The trie is a tree and each node sits at a fixed depth, so every node is visited at most
// once: the cost is bounded by the route table, whatever the path.
int Router::find(uint32_t node, size_t depth, const Segments& segs, Method method) const {
  const Node& n = nodes_[node];
  if (depth == segs.count) {
    int32_t r = route_for(n.exact, method);
    return r >= 0 ? r : route_for(n.wildcard, method);  // "/files/*" also matches "/files"
  }
  std::string_view s = segs.seg(depth);
  auto it = std::lower_bound(n.literals.begin(), n.literals.end(), s, literal_less);
  if (it != n.literals.end() && it->first == s) {
    int r = find(it->second, depth + 1, segs, method);
    if (r >= 0) return r;
  }
  if (n.param_child >= 0) {
    int r = find(static_cast<uint32_t>(n.param_child), depth + 1, segs, method);
    if (r >= 0) return r;
  }
  return route_for(n.wildcard, method);
}

// The union of methods registered on every route matching the path (only used on a miss).
uint8_t Router::methods_for(uint32_t node, size_t depth, const Segments& segs) const {
  const Node& n = nodes_[node];
  uint8_t mask = n.wildcard_mask;
  if (depth == segs.count) return static_cast<uint8_t>(mask | n.exact_mask);
  std::string_view s = segs.seg(depth);
  auto it = std::lower_bound(n.literals.begin(), n.literals.end(), s, literal_less);
  if (it != n.literals.end() && it->first == s) {
    mask = static_cast<uint8_t>(mask | methods_for(it->second, depth + 1, segs));
  }
  if (n.param_child >= 0) {
    mask = static_cast<uint8_t>(mask |
                                methods_for(static_cast<uint32_t>(n.param_child), depth + 1, segs));
  }
  return mask;
}

bool Router::fill_params(const Route& route, const Segments& segs, Match& out) const {
  out.params.reserve(route.params.size() + (route.wildcard_from >= 0 ? 1 : 0));
  for (const auto& [segment, name] : route.params) {
    std::optional<std::string> value = decode_capture(segs.seg(segment));
    if (!value) return false;
    out.params.emplace_back(name, std::move(*value));
  }
  if (route.wildcard_from >= 0) {
    auto from = static_cast<size_t>(route.wildcard_from);
    std::string_view rest;
    if (from < segs.count) {
      // Segments are slices of segs.path, so the rest is one contiguous slice of it.
      rest = segs.path.substr(segs.spans[from].pos);
    }
    std::optional<std::string> value = decode_capture(rest);
    if (!value) return false;
    out.params.emplace_back("*", std::move(*value));
  }
  return true;
}

Match Router::match(Method method, std::string_view path) const {
  Match out;
  Segments segs;
  if (!split_path(path, segs)) return out;

  int r = find(0, 0, segs, method);
  if (r >= 0) {
    const Route& route = routes_[static_cast<size_t>(r)];
    if (!fill_params(route, segs, out)) {
      out.params.clear();
      return out;
    }
    out.kind = Match::Found;
    out.route = r;
    out.pattern = route.pattern;
    return out;
  }

  uint8_t mask = methods_for(0, 0, segs);
  if (mask == 0) return out;
  if (mask & bit(Method::Get)) mask = static_cast<uint8_t>(mask | bit(Method::Head));
  mask = static_cast<uint8_t>(mask | bit(Method::Options));  // the caller answers OPTIONS itself
  out.kind = Match::MethodNotAllowed;
  for (int m = 0; m < kMethodCount; ++m) {
    if (mask & (1u << m)) out.allowed.push_back(static_cast<Method>(m));
  }
  return out;
}

}  // namespace ec
