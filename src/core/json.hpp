// Checked JSON access. nlohmann's get<T>() aborts (a Wasm trap) on a type mismatch when built
// with JSON_NOEXCEPTION, so the core only reads JSON through these helpers, which return
// nullptr/nullopt instead.
#pragma once

#include "core/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ec {

// Parses text; nullopt on malformed input or if nesting is deeper than max_depth (a hostile body
// must not exhaust the Wasm stack).
std::optional<json> parse_json(std::string_view text, int max_depth = 64);

// Serialises compactly; invalid UTF-8 is replaced rather than aborting.
std::string dump_json(const json& j);

const json* find(const json& obj, std::string_view key);
const std::string* get_string(const json& obj, std::string_view key);
std::optional<int64_t> get_int(const json& obj, std::string_view key);
std::optional<double> get_number(const json& obj, std::string_view key);
std::optional<bool> get_bool(const json& obj, std::string_view key);
const json* get_object(const json& obj, std::string_view key);
const json* get_array(const json& obj, std::string_view key);

// Appends s as a JSON string literal (quotes included), escaping as RFC 8259 requires. For hot
// paths (the access log) where building a json value just to dump it would dominate.
void append_json_string(std::string& out, std::string_view s);

// Convenience: string at key or a fallback.
std::string string_or(const json& obj, std::string_view key, std::string_view fallback);

}  // namespace ec
