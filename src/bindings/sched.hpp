// Cooperative scheduling. A Worker isolate runs one request's JavaScript (and so its Wasm) at a
// time: a long CPU stretch in the core (extracting, chunking, embedding a large document) makes
// every other request in the isolate wait, /health included. The core reads no clock, so it
// cannot tell how long it has run; long work is instead cut into slices of bounded work units,
// with a yield between them.
#pragma once

#include "core/context.hpp"
#include "core/task.hpp"

#include <cstddef>

namespace ec {

// Work between two yields, in bytes of text processed. Markdown extraction of a heading flood and
// the lexical embedder each take well under 1 µs a byte in Wasm, so a slice is a millisecond or
// two — far under the ~50 ms a slice may hold the isolate, and short enough that a request arriving
// meanwhile (which needs several turns of the event loop) is hardly held up. Bench section 11,
// /health p99 during the 100,000-heading ingest over idle (16 chunks per batch): 8 KiB slices
// 3.1-5.3×, 4 KiB 1.8-2.6×, 2 KiB 1.6-1.9×. Each yield costs ~1 ms of the ingest's own time (the
// flood's job: ~1.0 s → ~2.0 s), and an input under one slice never yields. So background work
// (jobs, which nobody waits on) takes the fine slices, and a request building inside itself (an
// inline ingest, ≤ INGEST_INLINE_BYTES, whose client waits for it) takes coarser ones: a 1 MB
// inline ingest took 1.86 s with 2 KiB slices.
inline constexpr size_t kBackgroundSliceBytes = 2 * 1024;
inline constexpr size_t kForegroundSliceBytes = 8 * 1024;

// The slice for the work `ctx` runs: background for the shim's internal requests (queued jobs,
// the cron), foreground otherwise.
size_t yield_slice_bytes(const Ctx& ctx);

// Effect "sched.yield": the shim resumes the core on a later macrotask (a 1 ms timer, see
// js-shim/effects.js), so the requests and I/O completions queued meanwhile run first. Never fails;
// a host that does not know the op just answers at once.
Task<bool> yield_to_host(Ctx& ctx);

}  // namespace ec
