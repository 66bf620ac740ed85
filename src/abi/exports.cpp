// The C ABI the JS shim calls — the only file that knows the core runs as Wasm. Natively the same
// functions are plain extern "C" so tests and benches drive the exact code path the Worker uses.
//
// Calling convention: the shim asks core_input(n) for a buffer of n bytes, writes the frame into
// it, then calls core_init/core_start/core_resume with n. Every call that produces output returns
// its length; core_output() gives its address. Both buffers are reused, so a request allocates
// nothing at the boundary.
#include "api/app.hpp"
#include "core/runtime.hpp"

#include <cstdint>
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
