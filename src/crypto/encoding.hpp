// Binary-to-text encodings (RFC 4648 base64 and base64url, and hex). Decoders return nullopt on
// any malformed input instead of skipping characters: their inputs are untrusted (tokens, request
// bodies), and a lenient decoder lets two different strings decode to the same bytes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ec {

// RFC 4648 §4, with '=' padding.
std::string base64_encode(std::string_view bytes);

// Accepts input with correct '=' padding or with none at all. Rejects whitespace, characters
// outside the alphabet, misplaced padding and non-zero trailing bits.
std::optional<std::string> base64_decode(std::string_view text);

// RFC 4648 §5 without padding (RFC 7515 §2 "base64url").
std::string base64url_encode(std::string_view bytes);

// Strict: rejects '=', '+', '/', whitespace, impossible lengths (4n+1) and non-zero trailing
// bits, so every byte string has exactly one accepted encoding — a JWT segment that decodes
// cannot have a second spelling that also verifies.
std::optional<std::string> base64url_decode(std::string_view text);

// Lowercase output; the decoder accepts either case but rejects odd lengths and non-hex digits.
std::string hex_encode(std::string_view bytes);
// Value of one hex digit (either case), or -1. Shared by the URL and PDF decoders.
constexpr int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
std::optional<std::string> hex_decode(std::string_view text);

}  // namespace ec
