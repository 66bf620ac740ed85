// Runtime: the session table and the loop that drives handler coroutines. One instance per Wasm
// instance serves many in-flight requests, each a Session keyed by id. The shim calls
// start(envelope) → frame, then resume(id, results) → frame until the frame is a response.
//
// Output frame (see js-shim/frame.js):
//   u8 kind=1 (effects)  u32 session  u32 n  n × {str op, str payload}
//   u8 kind=2 (response) u32 session  u32 status  u32 n  n × {str name, str value}  str body  str
//   log
// Results frame (input to resume):
//   f64 now_ms  u32 n  n × {u8 ok=1, str data | u8 ok=0, str code, str message}
#pragma once

#include "core/context.hpp"
#include "core/task.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ec {

using EntryFn = Task<Response> (*)(Ctx&);

enum class FrameKind : uint8_t { kEffects = 1, kResponse = 2 };

class Runtime {
 public:
  explicit Runtime(EntryFn entry) : entry_(entry) {}

  // Sets the environment (a JSON object of string values). Returns false if malformed.
  bool init(std::string_view env_json);
  const Env& env() const { return env_; }

  // Each returns a view of an output frame valid until the next call.
  std::string_view start(std::string_view envelope);
  std::string_view resume(uint32_t session, std::string_view results);
  // Drops a session (client went away): its coroutine frames are destroyed, no response is made.
  void cancel(uint32_t session);
  size_t session_count() const { return sessions_.size(); }

 private:
  struct Session {
    std::unique_ptr<Ctx> ctx;
    Task<Response> task;
  };
  std::string_view drive(uint32_t id, Session& s, coro::coroutine_handle<> h);
  // Every response frame leaves through here, so every header passes core/header_check.hpp.
  std::string_view respond(uint32_t id, Response r);

  EntryFn entry_;
  Env env_;
  std::unordered_map<uint32_t, Session> sessions_;
  uint32_t next_id_ = 1;
  std::string out_;
};

// A bare response frame for failures that happen before a handler exists (corrupt envelope,
// unknown session). Always valid JSON in the error shape used everywhere.
Response runtime_error_response(Err e);

}  // namespace ec
