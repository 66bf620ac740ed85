// Resumable stream logs as typed calls (binding STREAM_LOG, js-shim/stream-log.js): one Durable
// Object per log, named by the core (≤ 128 characters), holding an append-only, ordered list of
// chunks — SSE events the core formats, each with `id: N`, N being its 1-based position in the
// log. The object stores, replays and fans out; every rule (who writes, who reads, what an event
// says) stays here in the core. Reading a log is not an effect: a handler answers with
// Response::log_follow and the shim pipes the object's stream as the body.
//
// Limits enforced by the object: 20,000 chunks and 8 MiB per log, 1 MiB per chunk; a log is
// deleted ttl_ms after its creation (default 24 h, at most 30 days).
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace ec {

// The calls below fail with Err::streams_conflict (`from` ≠ length), streams_closed (log closed),
// streams_too_large (a limit), streams_not_found (none or expired) or streams_unavailable (retry);
// callers that act on one test it with ApiError::is.

struct StreamLogState {
  bool exists = false;
  bool created = false;  // streamlog_create only: this call created it
  int64_t length = 0;    // chunks in the log; the last one's position
  bool closed = false;
  int64_t followers = 0;  // readers following it right now
  int64_t created_at_ms = 0;
};

struct StreamLogAppended {
  int64_t length = 0;
  int64_t followers = 0;
  int64_t now_ms = 0;  // the object's clock at the append (to time a grace period)
};

// Creates the log (idempotent: an existing one is left as is, TTL included). ttl_ms 0 = default.
Task<Result<StreamLogState>> streamlog_create(Ctx& ctx, std::string name, int64_t ttl_ms);
// Appends chunks at position `from`, which must be the log's length: else streams_conflict
// (another writer appended; re-read the length with streamlog_info). streams_closed when the
// log was closed, streams_too_large past a limit (nothing stored), streams_not_found when it
// does not exist.
Task<Result<StreamLogAppended>> streamlog_append(Ctx& ctx, std::string name, int64_t from,
                                                 std::vector<std::string> chunks);
// A log that does not exist is {exists = false}, not an error.
Task<Result<StreamLogState>> streamlog_info(Ctx& ctx, std::string name);
// Closes the log (idempotent): followers get what remains, then their streams end. → its length.
Task<Result<int64_t>> streamlog_close(Ctx& ctx, std::string name);
// Deletes the log and ends its followers (idempotent).
Task<Status> streamlog_delete(Ctx& ctx, std::string name);

}  // namespace ec
