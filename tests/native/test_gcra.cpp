// The rate limiter's algorithm (limits/gcra.hpp) and its Wasm export core_gcra, which the
// RateLimiter Durable Object calls with plain numbers.
#include "limits/gcra.hpp"
#include "support/abi.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using ec::GcraDecision;
using ec::GcraParams;
using ec::GcraState;

namespace {

constexpr int64_t kSecond = 1'000'000;  // µs
constexpr int64_t kT0 = 1'795'000'000'000'000;

// One caller's object: it stores the state whenever the decision changed it, as rate-limiter.js.
struct Caller {
  GcraParams p;
  GcraState state;
  GcraDecision hit(int64_t now_us, int64_t cost = 1) {
    GcraDecision d = ec::gcra_decide(state, now_us, p, cost);
    state = d.state;
    return d;
  }
};

}  // namespace

TEST_CASE("gcra: a burst of exactly the limit, then refusals with the wait until the next unit") {
  Caller c{{10, 60 * kSecond}, {}};
  for (int i = 0; i < 10; ++i) {
    GcraDecision d = c.hit(kT0);
    REQUIRE(d.allowed);
    CHECK(d.remaining == 9 - i);
    CHECK(d.reset_us == (i + 1) * 6 * kSecond);  // one emission interval (6 s) per request
  }
  GcraDecision refused = c.hit(kT0);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.remaining == 0);
  CHECK(refused.retry_after_us == 6 * kSecond);
  CHECK(refused.reset_us == 60 * kSecond);
  // Refusals cost nothing: the state did not move.
  CHECK(c.hit(kT0 + kSecond).retry_after_us == 5 * kSecond);
}

TEST_CASE("gcra: the exact boundary — one microsecond early is refused, on time is admitted") {
  Caller c{{10, 60 * kSecond}, {}};
  for (int i = 0; i < 10; ++i) REQUIRE(c.hit(kT0).allowed);
  GcraDecision early = c.hit(kT0 + 6 * kSecond - 1);
  CHECK_FALSE(early.allowed);
  CHECK(early.retry_after_us == 1);
  GcraDecision on_time = c.hit(kT0 + 6 * kSecond);
  CHECK(on_time.allowed);
  CHECK(on_time.remaining == 0);
  CHECK_FALSE(c.hit(kT0 + 6 * kSecond).allowed);
}

TEST_CASE("gcra: a limit that does not divide the period stays exact") {
  // 7 per minute: 60 s / 7 is not a whole number of µs, yet the burst is exactly 7 and the 70th
  // later unit arrives exactly 10 minutes on (70 × 60/7 s), with no drift from rounding.
  Caller c{{7, 60 * kSecond}, {}};
  int admitted = 0;
  int64_t last = 0;
  for (int64_t t = 0; t <= 600 * 1000; t += 250) {  // a request every 250 ms for 10 minutes
    if (c.hit(kT0 + t * 1000).allowed) {
      ++admitted;
      last = t;
    }
  }
  CHECK(admitted == 7 + 70);
  CHECK(last == 600 * 1000);
  // At no point more than the burst plus one unit per emission interval since the start.
  Caller d{{7, 60 * kSecond}, {}};
  int so_far = 0;
  for (int64_t t = 0; t <= 120 * 1000; t += 1) {
    if (d.hit(kT0 + t * 1000).allowed) ++so_far;
    REQUIRE(so_far <= 7 + (t * 7) / (60 * 1000));
  }
}

TEST_CASE("gcra: an idle caller's allowance is whole again after one period") {
  Caller c{{10, 60 * kSecond}, {}};
  for (int i = 0; i < 10; ++i) REQUIRE(c.hit(kT0).allowed);
  GcraDecision peek = ec::gcra_decide(c.state, kT0 + 60 * kSecond, c.p, 0);
  CHECK(peek.allowed);
  CHECK(peek.remaining == 10);
  CHECK(peek.reset_us == 0);
  // Long idle: no credit accrues beyond one allowance.
  Caller later = c;
  int burst = 0;
  while (later.hit(kT0 + 3600 * kSecond).allowed) ++burst;
  CHECK(burst == 10);
}

TEST_CASE("gcra: cost above one, above what remains, above the limit, and zero") {
  Caller c{{10, 60 * kSecond}, {}};
  GcraDecision three = c.hit(kT0, 3);
  CHECK(three.allowed);
  CHECK(three.remaining == 7);
  for (int i = 0; i < 5; ++i) REQUIRE(c.hit(kT0).allowed);
  GcraDecision too_many = c.hit(kT0, 3);  // 2 left: needs one more unit, 6 s away
  CHECK_FALSE(too_many.allowed);
  CHECK(too_many.retry_after_us == 6 * kSecond);
  CHECK(c.hit(kT0, 2).allowed);

  Caller fresh{{10, 60 * kSecond}, {}};
  GcraDecision never = fresh.hit(kT0, 11);
  CHECK_FALSE(never.allowed);
  CHECK(never.retry_after_us == -1);
  CHECK(fresh.hit(kT0, 10).allowed);  // exactly the limit fits a whole allowance

  GcraDecision peek = ec::gcra_decide(fresh.state, kT0, fresh.p, 0);
  CHECK(peek.allowed);
  CHECK(peek.remaining == 0);
  CHECK(peek.state.tat_us == fresh.state.tat_us);
}

TEST_CASE("gcra: a clock that goes backwards never locks a caller out for more than a period") {
  Caller c{{10, 60 * kSecond}, {}};
  for (int i = 0; i < 10; ++i) REQUIRE(c.hit(kT0).allowed);
  GcraDecision back = c.hit(kT0 - 3600 * kSecond);  // an hour earlier
  CHECK_FALSE(back.allowed);
  CHECK(back.retry_after_us == 6 * kSecond);  // as if one period of debt, not 61 minutes
  CHECK(back.reset_us == 60 * kSecond);

  // A state from a longer period (the config was changed) is capped the same way, and the capped
  // state is what gets stored: the next unit comes one interval later, not a day later.
  Caller shortened{{10, 60 * kSecond}, {kT0 + 24 * 3600 * kSecond, 0}};
  GcraDecision capped = shortened.hit(kT0);
  CHECK_FALSE(capped.allowed);
  CHECK(capped.retry_after_us == 6 * kSecond);
  CHECK(capped.state.tat_us == kT0 + 60 * kSecond);
  CHECK(shortened.hit(kT0 + 6 * kSecond).allowed);

  // A fraction stored under a larger limit is clamped, not trusted.
  Caller smaller{{3, kSecond}, {kT0, 999}};
  GcraDecision d = smaller.hit(kT0);
  CHECK(d.allowed);
  CHECK(d.state.tat_frac < 3);
}

TEST_CASE("gcra: bounds on the limit and period") {
  CHECK(ec::gcra_params_valid({1, 1}));
  CHECK(ec::gcra_params_valid({1'000'000, 30LL * 24 * 3600 * kSecond}));  // RATE_LIMITS' maxima
  CHECK(ec::gcra_params_valid({1, 100LL * 365 * 24 * 3600 * kSecond}));   // a century, limit 1
  CHECK_FALSE(ec::gcra_params_valid({0, kSecond}));
  CHECK_FALSE(ec::gcra_params_valid({10, 0}));
  CHECK_FALSE(ec::gcra_params_valid({ec::kGcraMaxLimit + 1, kSecond}));
  CHECK_FALSE(ec::gcra_params_valid({ec::kGcraMaxLimit, 365LL * 24 * 3600 * kSecond}));

  // A huge period with a large limit: still exact, one unit every 2.592 s.
  Caller month{{1'000'000, 30LL * 24 * 3600 * kSecond}, {}};
  for (int i = 0; i < 1000; ++i) REQUIRE(month.hit(kT0).allowed);
  CHECK(month.hit(kT0).remaining == 1'000'000 - 1001);
}

TEST_CASE("gcra: JS numbers in, through the same checks the Durable Object relies on") {
  const double t0_ms = 1'795'000'000'000.0;
  auto d = ec::gcra_decide_numbers(0, 0, t0_ms, 60'000, 10, 1);
  REQUIRE(d);
  CHECK(d->allowed);
  CHECK(d->state.tat_us == static_cast<int64_t>(t0_ms) * 1000 + 6 * kSecond);

  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  CHECK_FALSE(ec::gcra_decide_numbers(0, 0, t0_ms, 60'000, 10.5, 1));  // limit not whole
  CHECK_FALSE(ec::gcra_decide_numbers(0, 0, t0_ms, 60'000, 0, 1));
  CHECK_FALSE(ec::gcra_decide_numbers(0, 0, t0_ms, 60'000, 10, -1));
  CHECK_FALSE(ec::gcra_decide_numbers(0, 0, t0_ms, 60'000, 10, 0.5));
  CHECK_FALSE(ec::gcra_decide_numbers(0, 0, nan, 60'000, 10, 1));
  CHECK_FALSE(ec::gcra_decide_numbers(0, 0, t0_ms, inf, 10, 1));
  CHECK_FALSE(ec::gcra_decide_numbers(0, 0, t0_ms, 0, 10, 1));
  CHECK_FALSE(ec::gcra_decide_numbers(0, 0, -1, 60'000, 10, 1));
  CHECK_FALSE(ec::gcra_decide_numbers(nan, 0, t0_ms, 60'000, 10, 1));  // a corrupt stored state
  CHECK_FALSE(ec::gcra_decide_numbers(0.5, 0, t0_ms, 60'000, 10, 1));
  CHECK_FALSE(ec::gcra_decide_numbers(0, 0, t0_ms, 1e13, 1e9, 1));  // limit × period too large
}

TEST_CASE("core_gcra: the export the Durable Object calls") {
  const double t0_ms = 1'795'000'000'000.0;
  double tat = 0, frac = 0;
  int admitted = 0;
  for (int i = 0; i < 12; ++i) {
    const double* out = core_gcra(tat, frac, t0_ms, 60'000, 7, 1);
    if (out[0] == 1) {
      ++admitted;
      tat = out[1];
      frac = out[2];
    } else {
      CHECK(out[0] == 0);
      CHECK(out[3] == 0);                              // remaining
      CHECK(out[4] == 60'000);                         // reset_ms: the whole period
      CHECK(std::abs(out[5] - 60'000.0 / 7) < 0.001);  // retry_after_ms: one interval
    }
  }
  CHECK(admitted == 7);
  CHECK(core_gcra(0, 0, t0_ms, 60'000, 7, 8)[5] == -1);  // never
  CHECK(core_gcra(0, 0, t0_ms, 60'000, 0, 1)[0] == -1);  // invalid
}
