#include "bindings/jobs.hpp"

#include "crypto/ct.hpp"

namespace ec {

Task<Status> enqueue_job(Ctx& ctx, json body, int64_t delay_s) {
  json args = {{"body", std::move(body)}};
  if (delay_s > 0) args["delaySeconds"] = delay_s;
  EffectResult r = co_await ctx.perform(make_effect("job.enqueue", args));
  if (!r.ok()) co_return api_error(Err::jobs_unavailable);
  co_return ok_status();
}

bool is_internal_request(const Ctx& ctx) {
  std::string_view token = ctx.env("EDGECHAT_INTERNAL_TOKEN");
  const std::string* sent = ctx.request().header("x-edgechat-internal");
  return token.size() >= 16 && sent && constant_time_equal(*sent, token);
}

}  // namespace ec
