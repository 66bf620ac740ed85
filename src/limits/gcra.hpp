// GCRA, the generic cell rate algorithm (ITU-T I.371; the "virtual scheduling" form): a rate
// limit of `limit` requests per `period` kept as one number per caller, the theoretical arrival
// time (TAT) — when that caller's allowance would be whole again if it sent nothing more. A
// request of cost c moves the TAT c emission intervals (period / limit) into the future and is
// admitted if the TAT then lies at most one period ahead of now. So a caller may send `limit`
// requests at once, then one per emission interval: from any moment t, at most
// limit + (elapsed / interval) are admitted (within one period that is up to 2 × limit − 1, the
// same worst case as a fixed window's boundary, but with no cliff when a window resets).
//
// Pure and exact: times are whole microseconds and the emission interval is kept as a quotient and
// a remainder (tat = us + frac / limit µs), so 7 per minute admits exactly 7 at once however the
// division rounds. The Durable Object that holds a caller's state calls this through the Wasm
// export core_gcra (src/abi/exports.cpp); it owns no rule of its own.
#pragma once

#include <cstdint>
#include <optional>

namespace ec {

// Bounds keep every product below 2^62: limit × period in µs, and cost × period.
inline constexpr int64_t kGcraMaxLimit = 1'000'000'000;
inline constexpr int64_t kGcraMaxProduct = int64_t{1} << 62;

struct GcraParams {
  int64_t limit = 0;      // requests per period, ≥ 1
  int64_t period_us = 0;  // ≥ 1
};

// The state one caller's object stores: tat = tat_us + tat_frac / limit microseconds.
// {0, 0} is "never seen" (the allowance is whole).
struct GcraState {
  int64_t tat_us = 0;
  int64_t tat_frac = 0;  // in [0, limit)
};

struct GcraDecision {
  bool allowed = false;
  GcraState state;             // to store when it differs from the input: admitted, or capped
  int64_t remaining = 0;       // further cost-1 requests admissible right now, in [0, limit]
  int64_t reset_us = 0;        // until the allowance is whole again (rounded up)
  int64_t retry_after_us = 0;  // refused: until this request would be admitted; -1 = never
};

// False when limit × period or the limit itself is out of bounds (see above).
bool gcra_params_valid(const GcraParams& p);

// The decision for a request of `cost` (≥ 0; 0 only reads the state) at `now_us`. Requires valid
// params. A stored state from another limit is clamped, and a TAT more than one period ahead
// (the period was shortened, or the clock went backwards) is capped at one period ahead — and the
// capped state is returned to be stored — so neither can lock a caller out for longer than that.
GcraDecision gcra_decide(GcraState state, int64_t now_us, const GcraParams& p, int64_t cost);

// gcra_decide over JS numbers, as core_gcra receives them: the state as stored, the clock and
// the period in milliseconds. nullopt when an argument is not finite, not whole where it must be
// (limit, cost, the state) or out of bounds.
std::optional<GcraDecision> gcra_decide_numbers(double tat_us, double tat_frac, double now_ms,
                                                double period_ms, double limit, double cost);

}  // namespace ec
