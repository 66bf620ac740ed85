// URL pieces the router and handlers need: percent-decoding and query-string parsing. Everything
// here runs on attacker-controlled input, so every function is total: malformed input yields
// nullopt or is skipped, never an abort.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ec {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// Decodes %XX escapes (either hex case). nullopt if an escape is truncated or not hex, or if the
// result would contain a NUL byte (NUL smuggled into keys and SQL text is never legitimate).
// plus_as_space: true for application/x-www-form-urlencoded (query strings), false for paths.
std::optional<std::string> percent_decode(std::string_view in, bool plus_as_space);

// Parses a raw query string without its leading '?': pairs separated by '&', '+' is a space,
// a pair without '=' has an empty value. Pairs with an empty name or a malformed escape are
// skipped; at most kMaxQueryParams pairs are kept so a hostile query cannot cost unbounded work.
inline constexpr size_t kMaxQueryParams = 128;
QueryParams parse_query(std::string_view raw);

// First value for name (exact, case-sensitive), or nullptr.
const std::string* query_param(const QueryParams& params, std::string_view name);

}  // namespace ec
