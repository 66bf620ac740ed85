// What the shim hands the core for each request (the envelope) and what the core hands back (a
// response). Headers are kept as the shim sent them, names lower-cased by the shim (the Fetch
// API's Headers already iterates lower-case names).
#pragma once

#include <cstdint>
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
  // When set, the body is not in `body` but streamed by the shim from R2 (a download): the
  // object key and the byte range [offset, offset + length). The core has already checked
  // ownership and set Content-Length / Content-Range; big files never enter Wasm memory.
  struct R2Body {
    std::string key;
    int64_t offset = 0;
    int64_t length = 0;
  };
  std::optional<R2Body> r2_body;
  // When set, the body is a resumable stream's log (a Durable Object) replayed from after event
  // `after` and followed until the log closes (GET /api/v1/streams/:id). The core has checked
  // ownership and set the SSE headers; the shim pipes the Durable Object's body.
  struct LogFollow {
    std::string name;
    int64_t after = 0;
  };
  std::optional<LogFollow> log_follow;

  void set_header(std::string name, std::string value);
  const std::string* header(std::string_view lower_name) const;
};

}  // namespace ec
