// <coroutine>, or <experimental/coroutine> on toolchains whose libc++ predates C++20 coroutines
// (Debian's emscripten 3.1.6 ships libc++ 14). Everything else spells it ec::coro.
#pragma once

#if __has_include(<coroutine>)
#include <coroutine>
namespace ec::coro {
using std::coroutine_handle;
using std::noop_coroutine;
using std::suspend_always;
}  // namespace ec::coro
#else
#include <experimental/coroutine>
namespace ec::coro {
using std::experimental::coroutine_handle;
using std::experimental::noop_coroutine;
using std::experimental::suspend_always;
}  // namespace ec::coro
#endif
