#include "limits/gcra.hpp"

#include <cmath>

namespace ec {

namespace {

// A point in time as whole microseconds plus frac / limit of one.
struct Tick {
  int64_t us;
  int64_t frac;
};

bool before(Tick a, Tick b) { return a.us != b.us ? a.us < b.us : a.frac < b.frac; }

Tick plus(Tick t, int64_t us, int64_t frac, int64_t limit) {
  t.us += us;
  t.frac += frac;
  if (t.frac >= limit) {
    t.frac -= limit;
    t.us += 1;
  }
  return t;
}

// Whole microseconds from `from` up to `t`, rounded up (t ≥ from).
int64_t ceil_us_since(Tick t, int64_t from) { return t.us - from + (t.frac > 0 ? 1 : 0); }

// 2^53: beyond it a double no longer holds every integer.
constexpr double kMaxExact = 9007199254740992.0;

bool whole(double v, double lo, double hi) {
  return std::isfinite(v) && v >= lo && v <= hi && v == std::floor(v);
}

}  // namespace

bool gcra_params_valid(const GcraParams& p) {
  return p.limit >= 1 && p.limit <= kGcraMaxLimit && p.period_us >= 1 &&
         p.period_us <= kGcraMaxProduct / p.limit;
}

GcraDecision gcra_decide(GcraState state, int64_t now_us, const GcraParams& p, int64_t cost) {
  const int64_t limit = p.limit;
  const int64_t period = p.period_us;
  if (cost < 0) cost = 0;
  // A fraction stored under a smaller limit is off by under a microsecond: clamp it.
  Tick tat{state.tat_us, state.tat_frac < 0 ? 0 : state.tat_frac};
  if (tat.frac >= limit) tat.frac = limit - 1;
  // At most one period of debt, whatever was stored or however far the clock stepped back.
  const Tick horizon{now_us + period, 0};
  if (before(horizon, tat)) tat = horizon;
  const Tick now{now_us, 0};
  const Tick base = before(tat, now) ? now : tat;

  GcraDecision d;
  Tick effective = base;
  if (cost > limit) {
    d.allowed = false;
    d.retry_after_us = -1;  // more than a whole allowance: no wait makes it fit
    d.state = GcraState{tat.us, tat.frac};
  } else {
    // cost × period ≤ limit × period < 2^62: the interval's quotient and remainder are exact.
    const int64_t scaled = cost * period;
    const Tick next = plus(base, scaled / limit, scaled % limit, limit);
    // Admitted when next − period ≤ now, i.e. the request fits in the remaining allowance.
    const Tick allow_at{next.us - period, next.frac};
    d.allowed = !before(now, allow_at);
    if (d.allowed) {
      effective = next;
      // A read (cost 0) leaves the state as it was: nothing for the object to write.
      d.state = cost == 0 ? GcraState{tat.us, tat.frac} : GcraState{next.us, next.frac};
    } else {
      d.retry_after_us = ceil_us_since(allow_at, now_us);
      d.state = GcraState{tat.us, tat.frac};
    }
  }
  // Slack = now + period − effective, in units of 1/limit µs, over the interval (period/limit).
  const int64_t slack = (now_us + period - effective.us) * limit - effective.frac;
  d.remaining = slack <= 0 ? 0 : slack / period;
  if (d.remaining > limit) d.remaining = limit;
  d.reset_us = ceil_us_since(effective, now_us);
  return d;
}

std::optional<GcraDecision> gcra_decide_numbers(double tat_us, double tat_frac, double now_ms,
                                                double period_ms, double limit, double cost) {
  if (!whole(limit, 1, static_cast<double>(kGcraMaxLimit))) return std::nullopt;
  if (!whole(cost, 0, kMaxExact) || !whole(tat_us, -kMaxExact, kMaxExact) ||
      !whole(tat_frac, 0, kMaxExact)) {
    return std::nullopt;
  }
  if (!std::isfinite(now_ms) || now_ms < 0 || now_ms > kMaxExact / 1000.0) return std::nullopt;
  if (!std::isfinite(period_ms) || period_ms <= 0 || period_ms > kMaxExact / 1000.0) {
    return std::nullopt;
  }
  GcraParams p{static_cast<int64_t>(limit), std::llround(period_ms * 1000.0)};
  if (!gcra_params_valid(p)) return std::nullopt;
  return gcra_decide(GcraState{static_cast<int64_t>(tat_us), static_cast<int64_t>(tat_frac)},
                     std::llround(now_ms * 1000.0), p, static_cast<int64_t>(cost));
}

}  // namespace ec
