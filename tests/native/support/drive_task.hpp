// Runs a service coroutine (not a route) to completion through a real Ctx mailbox, answering its
// effects with a FakeHost: real SQLite D1, the host's randomness, and the host's interceptor.
//
//   Result<MemoryContext> c = drive<Result<MemoryContext>>(h, [&](Ctx& ctx) {
//     return load_memory_context(ctx, user_id, "notes", 2000);
//   });
#pragma once

#include "core/context.hpp"
#include "core/task.hpp"
#include "support/fake_host.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ec::testing {

template <typename T, typename MakeTask>
T drive(FakeHost& h, MakeTask make, std::map<std::string, std::string> vars = {}) {
  Env env(vars.begin(), vars.end());
  Envelope envelope;
  envelope.now_ms = h.now_ms;
  Ctx ctx(1, std::move(envelope), env);
  Task<T> task = make(ctx);
  coro::coroutine_handle<> next = task.handle();
  for (int round = 0; round < 1000 && next; ++round) {
    next.resume();
    if (task.done()) break;
    REQUIRE(ctx.has_pending());
    std::vector<EffectResult> results;
    for (const Effect& e : ctx.take_pending()) {
      ForcedResult r = h.answer(e.op, e.payload);
      results.push_back(r.ok ? EffectResult{EffectError::kNone, std::move(r.data), ""}
                             : EffectResult{effect_error_from_code(r.code), "", r.data});
    }
    next = ctx.deliver(std::move(results));
  }
  REQUIRE(task.done());
  return task.take();
}

}  // namespace ec::testing
