// The C ABI the JS shim calls — the only file that knows the core runs as Wasm. Natively the same
// functions are plain extern "C" so tests and benches drive the exact code path the Worker uses.
//
// Calling convention: the shim asks core_input(n) for a buffer of n bytes, writes the frame into
// it, then calls core_init/core_start/core_resume with n. Every call that produces output returns
// its length; core_output() gives its address. Both buffers are reused, so a request allocates
// nothing at the boundary.
#include "api/app.hpp"
#include "core/runtime.hpp"
#include "limits/gcra.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#if defined(__wasm__)
#define EC_EXPORT(name) extern "C" __attribute__((export_name(#name), visibility("default")))
#else
#define EC_EXPORT(name) extern "C"
#endif

namespace {
ec::Runtime& runtime() {
  static ec::Runtime rt(&ec::handle_request);
  return rt;
}
std::string& input() {
  static std::string buf;
  return buf;
}
std::string_view g_out;

uint32_t emit(std::string_view out) {
  g_out = out;
  return static_cast<uint32_t>(out.size());
}
std::string_view in(uint32_t len) { return std::string_view(input().data(), len); }
}  // namespace

EC_EXPORT(core_input) char* core_input(uint32_t len) {
  if (input().size() < len) input().resize(len);
  return input().data();
}

EC_EXPORT(core_output) const char* core_output() { return g_out.data(); }

// Returns 0 on success, 1 if the env frame is malformed.
EC_EXPORT(core_init) uint32_t core_init(uint32_t len) {
  if (!runtime().init(in(len))) return 1;
  return ec::app_init(runtime().env()) ? 0 : 2;
}

// The request headers the core reads, newline-separated, in the output buffer; returns the length.
EC_EXPORT(core_request_headers) uint32_t core_request_headers() {
  static const std::string names = ec::request_header_names();
  return emit(names);
}

EC_EXPORT(core_start) uint32_t core_start(uint32_t len) { return emit(runtime().start(in(len))); }

EC_EXPORT(core_resume) uint32_t core_resume(uint32_t session, uint32_t len) {
  return emit(runtime().resume(session, in(len)));
}

EC_EXPORT(core_cancel) void core_cancel(uint32_t session) { runtime().cancel(session); }

EC_EXPORT(core_sessions) uint32_t core_sessions() {
  return static_cast<uint32_t>(runtime().session_count());
}

// The rate limiter's decision (limits/gcra.hpp) for the RateLimiter Durable Object
// (js-shim/rate-limiter.js), which stores the state and serialises the calls: pure, no session, no
// allocation, numbers in and out so the object passes no bytes. Returns the address of six
// doubles: status (1 admitted, 0 refused, -1 invalid arguments), the state to store (tat_us,
// tat_frac), remaining, reset_ms and retry_after_ms (-1: never).
EC_EXPORT(core_gcra)
const double* core_gcra(double tat_us, double tat_frac, double now_ms, double period_ms,
                        double limit, double cost) {
  static double out[6];
  std::optional<ec::GcraDecision> d =
      ec::gcra_decide_numbers(tat_us, tat_frac, now_ms, period_ms, limit, cost);
  if (!d) {
    out[0] = -1;
    return out;
  }
  out[0] = d->allowed ? 1 : 0;
  out[1] = static_cast<double>(d->state.tat_us);
  out[2] = static_cast<double>(d->state.tat_frac);
  out[3] = static_cast<double>(d->remaining);
  out[4] = static_cast<double>(d->reset_us) / 1000.0;
  out[5] = d->retry_after_us < 0 ? -1.0 : static_cast<double>(d->retry_after_us) / 1000.0;
  return out;
}
