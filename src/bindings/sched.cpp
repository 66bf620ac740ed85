#include "bindings/sched.hpp"

namespace ec {

Task<bool> yield_to_host(Ctx& ctx) {
  EffectResult r = co_await ctx.perform(make_effect("sched.yield", json::object()));
  co_return r.ok();
}

}  // namespace ec
