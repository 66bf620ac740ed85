// Ctx: everything one request's coroutines share — the envelope, the clock and randomness the shim
// supplied, the environment, and the effect mailbox between the handler and the Runtime.
// Owned by the Runtime's session table, so it outlives every coroutine of its request; handlers
// take it by reference (the one reference allowed across co_await, DESIGN.md §6).
#pragma once

#include "core/effect.hpp"
#include "core/envelope.hpp"
#include "core/task.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include "core/coro.hpp"

namespace ec {

// The Worker's env vars and secrets as strings (set once per instance by core_init).
using Env = std::map<std::string, std::string, std::less<>>;

class Ctx {
 public:
  Ctx(uint32_t session_id, Envelope envelope, const Env& env)
      : session_id_(session_id),
        start_ms_(envelope.now_ms),
        now_ms_(envelope.now_ms),
        env_(env),
        req_(std::move(envelope)) {}
  Ctx(const Ctx&) = delete;
  Ctx& operator=(const Ctx&) = delete;

  uint32_t session_id() const { return session_id_; }
  const Envelope& request() const { return req_; }
  Envelope& request() { return req_; }
  const Env& env() const { return env_; }
  std::string_view env(std::string_view key, std::string_view fallback = "") const;

  // Time: the envelope's clock, advanced by the shim on every resume (so durations include I/O).
  double now_ms() const { return now_ms_; }
  int64_t now_s() const { return static_cast<int64_t>(now_ms_ / 1000.0); }
  double elapsed_ms() const { return now_ms_ - start_ms_; }
  void advance_clock(double now_ms) {
    if (now_ms > now_ms_) now_ms_ = now_ms;
  }

  // Randomness: drawn from the envelope's pool; when it runs dry a `random` effect refills it.
  Task<std::string> random_bytes(size_t n);
  std::optional<std::string> take_random(size_t n);

  // Effects. `co_await ctx.perform(e)` suspends until the shim has run e; `co_await ctx.all(es)`
  // runs several at once (the shim uses Promise.all) and returns results in the same order.
  struct EffectsAwaiter {
    Ctx& ctx;
    std::vector<Effect> effects;
    bool await_ready() const noexcept { return false; }
    void await_suspend(coro::coroutine_handle<> h) noexcept {
      ctx.pending_ = std::move(effects);
      ctx.waiting_ = h;
    }
    std::vector<EffectResult> await_resume() { return std::move(ctx.results_); }
  };
  struct EffectAwaiter {
    EffectsAwaiter inner;
    bool await_ready() const noexcept { return false; }
    void await_suspend(coro::coroutine_handle<> h) noexcept { inner.await_suspend(h); }
    EffectResult await_resume();
  };
  EffectAwaiter perform(Effect e);
  EffectsAwaiter all(std::vector<Effect> es) { return EffectsAwaiter{*this, std::move(es)}; }

  // Runtime side of the mailbox.
  bool has_pending() const { return !pending_.empty(); }
  std::vector<Effect> take_pending() { return std::move(pending_); }
  // Delivers results; returns the coroutine to resume, or null if none is waiting.
  coro::coroutine_handle<> deliver(std::vector<EffectResult> results);
  size_t expected_results() const { return expected_; }
  void note_expected(size_t n) { expected_ = n; }

  // Fields for the request's log line, filled in as the request is understood.
  std::string request_id;
  std::string route;    // the matched pattern, never the raw path
  std::string user_id;  // once authenticated
  // The user authenticate() loaded for this request's credential, so a second check in the same
  // request (a gateway policy, then the handler) costs no second D1 read. Opaque here: auth/ owns
  // the type.
  std::shared_ptr<const void> auth_memo;

  // Adds what every response carries (CORS, request id, cache policy). Set by the HTTP pipeline so
  // a streamed response, whose head leaves before the handler returns, gets the same headers.
  std::function<void(Response&)> decorate_response;

 private:
  uint32_t session_id_;
  double start_ms_;
  double now_ms_;
  const Env& env_;
  Envelope req_;
  size_t random_pos_ = 0;
  std::vector<Effect> pending_;
  std::vector<EffectResult> results_;
  coro::coroutine_handle<> waiting_;
  size_t expected_ = 0;
};

}  // namespace ec
