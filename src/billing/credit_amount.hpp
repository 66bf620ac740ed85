// Credit amounts: integers of micro-credits inside, decimal numbers outside. Prices in the model
// table are credits per 1k tokens (chat/model_table.hpp); a call's cost is rounded UP to the next
// micro-credit so many small calls can never add up to less than their price.
#pragma once

#include "core/error.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace ec {

inline constexpr int64_t kMicroPerCredit = 1'000'000;
// The largest balance or single amount: 10^12 credits. Far beyond any real account, and small
// enough that a sum of two never overflows int64.
inline constexpr int64_t kMaxCreditMicros = int64_t{1'000'000'000'000} * kMicroPerCredit / 1000;
// Token counts above this are refused as input (no single call comes close).
inline constexpr int64_t kMaxTokens = 1'000'000'000;

// A JSON number or decimal string ("2", "0.5", "-1.25", at most 6 decimals) → micro-credits.
// nullopt for anything else, for negatives unless allow_negative, and beyond ±kMaxCreditMicros.
std::optional<int64_t> parse_credit_amount(const json& v, bool allow_negative);

// 1500000 → "1.5", 75 → "0.000075", -2000000 → "-2": the form of the X-Credits-* headers.
std::string format_credits(int64_t micros);
// The JSON number for an amount (the API's "balance", "credits", …).
json credits_json(int64_t micros);

// The price of `tokens` at `credits_per_1k` credits per 1k tokens, in micro-credits, rounded up.
int64_t token_price_micros(double credits_per_1k, int64_t tokens);

}  // namespace ec
