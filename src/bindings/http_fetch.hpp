// Outbound HTTP for upstream APIs (LLM providers), with the response body read incrementally so a
// streamed answer can be relayed chunk by chunk:
//   fetch_start → status + headers + a stream handle; fetch_read → the next bytes ("" at the end);
//   fetch_abort → cancels the upstream request (the client left, or the core has what it needs).
// The shim aborts whatever a request left open when the request ends.
#pragma once

#include "bindings/fetch_request.hpp"
#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <string>

namespace ec {

struct UpstreamResponse {
  int status = 0;
  json headers = json::object();  // lower-case names
  int64_t stream = 0;             // handle for fetch_read / fetch_abort
};

// 504 "upstream.timeout" when no response head arrives within timeout_ms; 502
// "upstream.unreachable" for network failures (the host's message goes to logs only).
Task<Result<UpstreamResponse>> fetch_start(Ctx& ctx, FetchRequest req, int64_t timeout_ms);
Task<Result<std::string>> fetch_read(Ctx& ctx, int64_t stream);
Task<Status> fetch_abort(Ctx& ctx, int64_t stream);

}  // namespace ec
