// What the shim hands the core for each request (the envelope) and what the core hands back (a
// response). Headers are kept as the shim sent them, names lower-cased by the shim (the Fetch
// API's Headers already iterates lower-case names).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ec {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Envelope {
  double now_ms = 0;   // wall clock from the shim (Date.now()); the core reads no clock of its own
  std::string random;  // fresh CSPRNG bytes from the shim (crypto.getRandomValues)
  std::string method;
  std::string path;   // raw, percent-encoded, without the query
  std::string query;  // raw, without the leading '?'
  HeaderList headers;

  const std::string* header(std::string_view lower_name) const;
};

// Decodes the frame written by js-shim/frame.js encodeEnvelope(); nullopt if it is malformed.
std::optional<Envelope> decode_envelope(std::string_view frame);

struct Response {
  int status = 200;
  HeaderList headers;
  std::string body;
  std::string log_line;  // one structured JSON line; the shim prints it as is

  void set_header(std::string name, std::string value);
  const std::string* header(std::string_view lower_name) const;
};

}  // namespace ec
