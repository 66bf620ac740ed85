// Task<T>: a lazily-started coroutine whose awaiting parent is resumed by symmetric transfer when
// it finishes. The root task's continuation is empty, so finishing it returns control to whoever
// resumed it (the Runtime), which is what lets a handler "await" I/O the JS shim performs.
#pragma once

#include <cstdlib>
#include <optional>
#include <utility>
#include "core/coro.hpp"

namespace ec {

template <typename T>
class [[nodiscard]] Task {
 public:
  struct promise_type {
    std::optional<T> value;
    coro::coroutine_handle<> continuation;

    Task get_return_object() { return Task{Handle::from_promise(*this)}; }
    coro::suspend_always initial_suspend() noexcept { return {}; }
    struct FinalAwaiter {
      bool await_ready() noexcept { return false; }
      coro::coroutine_handle<> await_suspend(coro::coroutine_handle<promise_type> h) noexcept {
        coro::coroutine_handle<> next = h.promise().continuation;
        return next ? next : coro::noop_coroutine();
      }
      void await_resume() noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }
    void return_value(T v) { value.emplace(std::move(v)); }
    // Built with -fno-exceptions: nothing can be thrown, so reaching this is a bug.
    void unhandled_exception() noexcept { std::abort(); }
  };
  using Handle = coro::coroutine_handle<promise_type>;

  Task() = default;
  explicit Task(Handle h) : h_(h) {}
  Task(Task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Task& operator=(Task&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  // Awaiting a task starts it and suspends the parent until it completes.
  bool await_ready() const noexcept { return false; }
  coro::coroutine_handle<> await_suspend(coro::coroutine_handle<> parent) noexcept {
    h_.promise().continuation = parent;
    return h_;
  }
  T await_resume() { return std::move(*h_.promise().value); }

  // Root-task driving (used only by the Runtime and tests).
  Handle handle() const { return h_; }
  bool done() const { return h_ && h_.done(); }
  T take() { return std::move(*h_.promise().value); }

 private:
  // Destroying a suspended frame destroys its locals, including any child Task it is awaiting,
  // so cancelling the root tears the whole chain down.
  void reset() {
    if (h_) h_.destroy();
    h_ = {};
  }
  Handle h_;
};

}  // namespace ec
