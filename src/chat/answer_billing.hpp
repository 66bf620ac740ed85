// Credits for answers (billing/credits.hpp): before a metered answer calls any provider it
// reserves the worst case over its candidates — the prompt (with a margin, since the prompt's
// token count is an estimate until the provider reports it) plus the whole output allowance, which
// is exactly the max_tokens each provider is sent — and after it ends it settles the price of
// the call that answered. A user who cannot cover the reservation gets 402 before anything runs.
#pragma once

#include "billing/credits.hpp"
#include "chat/answer.hpp"
#include "http/reply.hpp"

namespace ec {

// The most `t` can cost for a prompt of about prompt_tokens and at most max_output tokens out.
int64_t worst_case_cost(const ProviderTarget& t, size_t prompt_tokens, size_t max_output);

// The price of the call that produced `res`, from its candidate's prices (0 if none answered).
int64_t answer_cost(const AnswerSpec& spec, const AnswerOutcome& res);

// Settles `hold` for `res` and records the usage event; sets res.credits_used/credits_balance.
// A storage failure is logged: the hold then expires and cleanup releases it (the user is not
// charged twice, at worst not at all).
Task<bool> settle_answer(Ctx& ctx, const AnswerSpec& spec, CreditHold hold, AnswerOutcome& res);

// X-Provider and X-Model, and when metered X-Credits-Balance (after the reservation) and
// X-Credits-Reserved: what a streamed answer's head can say before the answer exists.
void add_stream_billing_headers(Response& head, const ProviderTarget& first,
                                const AnswerOutcome& res);
// The full set for an answer returned whole: X-Credits-Used, X-Credits-Balance, X-Tokens-In,
// X-Tokens-Out, X-Provider, X-Model.
void add_answer_billing_headers(Response& r, const AnswerOutcome& res);

// {"used", "balance"} in credits for the `usage` event, or null when the answer was not metered.
json answer_credits_json(const AnswerOutcome& res);

}  // namespace ec
