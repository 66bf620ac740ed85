// Streamed responses (Server-Sent Events for chat). The handler opens the stream — the shim sends
// the status and headers to the client at once — then writes chunks as they are produced, and
// finally returns its Response as usual (only its log line is used; the shim closes the stream).
//
// A write fails with 499 "http.client_gone" when the client has disconnected, so the handler can
// stop its upstream work and still record what it had (a streamed session is not torn down when
// the client leaves, unlike a buffered one).
#pragma once

#include "core/context.hpp"
#include "core/envelope.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <string>

namespace ec {

// Applies the pipeline's usual headers (CORS, request id, cache policy), then effect
// "stream.open" {status, headers}.
Task<Status> open_stream(Ctx& ctx, Response head);

// The raw "stream.open" effect (decorated as above), for running it in one round with others.
Effect open_stream_effect(Ctx& ctx, Response head);

// Effect "stream.write"; its payload is the bytes themselves (no JSON), one effect per chunk.
Task<Status> write_stream(Ctx& ctx, std::string bytes);

// The headers an SSE response needs so no proxy or the runtime buffers or transforms it.
Response sse_head(int status = 200);

}  // namespace ec
