#include "core/context.hpp"

namespace ec {

std::string_view Ctx::env(std::string_view key, std::string_view fallback) const {
  auto it = env_.find(key);
  if (it == env_.end() || it->second.empty()) return fallback;
  return it->second;
}

std::optional<std::string> Ctx::take_random(size_t n) {
  const std::string& pool = req_.random;
  if (random_pos_ + n > pool.size()) return std::nullopt;
  std::string out = pool.substr(random_pos_, n);
  random_pos_ += n;
  return out;
}

Task<std::string> Ctx::random_bytes(size_t n) {
  if (auto bytes = take_random(n)) co_return std::move(*bytes);
  // Refill with at least what is asked for, so a burst of small draws costs one round trip.
  size_t want = n < 256 ? 256 : n;
  EffectResult r = co_await perform(Effect{"random", std::to_string(want)});
  if (!r.ok() || r.data.size() < n) {
    // The host failed to produce randomness: nothing secure can be made from this request.
    std::abort();
  }
  req_.random = std::move(r.data);
  random_pos_ = 0;
  co_return *take_random(n);
}

Ctx::EffectAwaiter Ctx::perform(Effect e) {
  std::vector<Effect> one;
  one.push_back(std::move(e));
  return EffectAwaiter{EffectsAwaiter{*this, std::move(one)}};
}

EffectResult Ctx::EffectAwaiter::await_resume() {
  std::vector<EffectResult> rs = inner.await_resume();
  if (rs.empty()) return EffectResult{EffectError::kInternal, "", "no result"};
  return std::move(rs.front());
}

coro::coroutine_handle<> Ctx::deliver(std::vector<EffectResult> results) {
  results_ = std::move(results);
  return std::exchange(waiting_, {});
}

}  // namespace ec
