// The credit ledger (migration 0004_billing.sql). Every balance change is one D1 batch — one
// transaction — holding the change, its ledger row and the check that keeps the balance at or
// above zero, so concurrent requests can neither overdraw an account nor lose a row.
//
// Accounts are created on first use with the grant for their kind (GUEST_CREDITS for guests,
// SIGNUP_CREDITS otherwise; defaults 1 and 10 credits), as part of the same batch as that use.
//
// A streamed AI call cannot know its price up front, so it RESERVES its worst case (the prompt
// plus the whole output allowance at the dearest candidate's prices) before it starts — refused
// with 402 if the balance is short — and SETTLES the real price when it ends, returning the rest.
// A call priced 0 (the local answerer, a self-hosted model) reserves nothing.
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <string>
#include <vector>

namespace ec {

struct CreditGrants {
  int64_t guest = 0;  // micro-credits
  int64_t signup = 0;
};
CreditGrants credit_grants(const Ctx& ctx);

// What a metered call used, for its usage_events row.
struct UsageRecord {
  std::string user_id;
  std::string kind = "chat";  // chat | completion | report
  std::string route;
  std::string provider;
  std::string model;
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  bool estimated = false;
  int64_t cost = 0;  // micro-credits
};

struct CreditHold {
  std::string id;  // "" when nothing was reserved (a free call)
  std::string user_id;
  int64_t amount = 0;
  int64_t balance = 0;  // after the reservation
};

// The outcome of a debit or settlement.
struct Charge {
  std::string usage_id;
  int64_t charged = 0;
  int64_t balance = 0;
};

struct CreditAccount {
  int64_t balance = 0;
  int64_t updated_at = 0;
};

// The balance, creating the account with its grant on first use.
Task<Result<CreditAccount>> credit_account(Ctx& ctx, std::string user_id);

// Reserves `amount` (0: nothing, just the balance). 402 credits.insufficient with the required
// amount and the balance when the account cannot cover it.
Task<Result<CreditHold>> reserve_credits(Ctx& ctx, std::string user_id, int64_t amount);

// Charges min(usage.cost, hold.amount) against the hold, returns the rest and records the usage
// event — all at most once per hold, however often it is called.
Task<Result<Charge>> settle_credits(Ctx& ctx, CreditHold hold, UsageRecord usage);

// A debit of usage.cost with its usage event (POST /api/billing/usage): 402 when short.
Task<Result<Charge>> debit_credits(Ctx& ctx, UsageRecord usage);

// Admin: add delta (negative to take away), or set the balance when `set` is true. 422
// credits.would_go_negative if the result would be below zero; 404 for an unknown user.
struct Adjustment {
  std::string entry_id;
  int64_t delta = 0;
  int64_t balance = 0;
};
Task<Result<Adjustment>> adjust_credits(Ctx& ctx, std::string user_id, int64_t amount, bool set,
                                        std::string reason);

// Releases up to `batch` holds whose call never settled (the isolate died mid-answer) and that
// expired before now_ms: the whole amount goes back, one 'release' ledger row per user. Returns
// how many holds were released. Run by cleanup.
Task<Result<int64_t>> release_expired_holds(Ctx& ctx, int64_t now_ms, int64_t batch);

// One ledger row as the API shows it.
json ledger_entry_json(const json& row);

}  // namespace ec
