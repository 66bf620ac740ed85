#include "bindings/sched.hpp"

#include "bindings/jobs.hpp"

namespace ec {

size_t yield_slice_bytes(const Ctx& ctx) {
  return is_internal_request(ctx) ? kBackgroundSliceBytes : kForegroundSliceBytes;
}

Task<bool> yield_to_host(Ctx& ctx) {
  EffectResult r = co_await ctx.perform(make_effect("sched.yield", json::object()));
  co_return r.ok();
}

}  // namespace ec
