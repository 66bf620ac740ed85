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

// Work between two yields, in bytes of text processed. Measured in Wasm on local workerd: Markdown
// extraction of a heading flood ~0.4 µs a byte, the lexical embedder ~0.6 µs, so a slice is
// ~5-10 ms — well under the ~50 ms a slice may hold the isolate, and short enough that a request
// arriving meanwhile (which needs several turns of the event loop) is not held up for long.
inline constexpr size_t kYieldEveryBytes = 16 * 1024;

// Effect "sched.yield": the shim resumes the core on a later macrotask (setTimeout 0), so the
// requests and I/O completions queued meanwhile run first. Never fails; a host that does not know
// the op just answers at once.
Task<bool> yield_to_host(Ctx& ctx);

}  // namespace ec
