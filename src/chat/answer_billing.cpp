#include "chat/answer_billing.hpp"

#include "billing/credit_amount.hpp"

namespace ec {

namespace {

// Token counts before the provider reports them are estimates (chars/4-style); the reservation
// allows for this much underestimate of the prompt.
constexpr size_t kPromptMarginPercent = 25;

}  // namespace

int64_t worst_case_cost(const ProviderTarget& t, size_t prompt_tokens, size_t max_output) {
  const auto in = static_cast<int64_t>(prompt_tokens + prompt_tokens * kPromptMarginPercent / 100);
  return token_price_micros(t.price_in_per_1k, in) +
         token_price_micros(t.price_out_per_1k, static_cast<int64_t>(max_output));
}

int64_t answer_cost(const AnswerSpec& spec, const AnswerOutcome& res) {
  if (res.provider.empty()) return 0;
  for (const ProviderTarget& t : spec.candidates) {
    if (t.provider == res.provider && t.model == res.model) {
      return token_price_micros(t.price_in_per_1k, res.tokens_in) +
             token_price_micros(t.price_out_per_1k, res.tokens_out);
    }
  }
  return 0;
}

Task<bool> settle_answer(Ctx& ctx, const AnswerSpec& spec, CreditHold hold, AnswerOutcome& res) {
  UsageRecord u;
  u.user_id = spec.user_id;
  u.kind = spec.format == AnswerFormat::kOpenAiChunks || spec.route_name == "completions"
               ? "completion"
               : "chat";
  u.route = spec.route_name.empty() ? "chat" : spec.route_name;
  u.provider = res.provider.empty() ? "none" : res.provider;
  u.model = res.model.empty() ? "none" : res.model;
  u.tokens_in = res.provider.empty() ? 0 : res.tokens_in;
  u.tokens_out = res.provider.empty() ? 0 : res.tokens_out;
  u.estimated = res.tokens_estimated;
  u.cost = answer_cost(spec, res);
  Result<Charge> c = co_await settle_credits(ctx, std::move(hold), std::move(u));
  if (!c.ok()) {
    EffectResult logged = co_await ctx.perform(
        make_effect("log.write", {{"line", dump_json({{"level", "error"},
                                                      {"msg", "credit settlement failed"},
                                                      {"requestId", ctx.request_id},
                                                      {"code", c.error().code}})}}));
    (void)logged;
    co_return false;
  }
  res.credits_used = c.value().charged;
  res.credits_balance = c.value().balance;
  co_return true;
}

void add_stream_billing_headers(Response& head, const ProviderTarget& first,
                                const AnswerOutcome& res) {
  head.headers.emplace_back("x-provider", first.provider);
  head.headers.emplace_back("x-model", first.model);
  if (res.metered) {
    head.headers.emplace_back("x-credits-balance", format_credits(res.credits_balance));
    head.headers.emplace_back("x-credits-reserved", format_credits(res.credits_reserved));
  }
}

void add_answer_billing_headers(Response& r, const AnswerOutcome& res) {
  if (res.metered) {
    r.headers.emplace_back("x-credits-used", format_credits(res.credits_used));
    r.headers.emplace_back("x-credits-balance", format_credits(res.credits_balance));
  }
  r.headers.emplace_back("x-tokens-in", std::to_string(res.tokens_in));
  r.headers.emplace_back("x-tokens-out", std::to_string(res.tokens_out));
  r.headers.emplace_back("x-provider", res.provider);
  r.headers.emplace_back("x-model", res.model);
}

json answer_credits_json(const AnswerOutcome& res) {
  if (!res.metered) return nullptr;
  return {{"used", credits_json(res.credits_used)}, {"balance", credits_json(res.credits_balance)}};
}

}  // namespace ec
