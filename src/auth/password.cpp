#include "auth/password.hpp"

#include "bindings/webcrypto.hpp"
#include "crypto/ct.hpp"
#include "crypto/encoding.hpp"

#include <charconv>
#include <optional>

namespace ec {

namespace {

static_assert(kPasswordIterations <= kMaxPbkdf2Iterations,
              "Workers rejects PBKDF2 above 100,000 iterations");

struct Parsed {
  int64_t iterations = 0;
  std::string salt;
  std::string hash;
};

std::optional<Parsed> parse_stored(std::string_view s) {
  constexpr std::string_view kPrefix = "pbkdf2_sha256$";
  if (s.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  s.remove_prefix(kPrefix.size());
  size_t a = s.find('$');
  if (a == std::string_view::npos) return std::nullopt;
  size_t b = s.find('$', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  Parsed p;
  auto [ptr, err] = std::from_chars(s.data(), s.data() + a, p.iterations);
  if (err != std::errc() || ptr != s.data() + a) return std::nullopt;
  auto salt = base64url_decode(s.substr(a + 1, b - a - 1));
  auto hash = base64url_decode(s.substr(b + 1));
  if (!salt || !hash || hash->size() != 32 || salt->empty()) return std::nullopt;
  p.salt = std::move(*salt);
  p.hash = std::move(*hash);
  return p;
}

}  // namespace

Task<Result<std::string>> hash_password(Ctx& ctx, std::string password) {
  std::string salt = co_await ctx.random_bytes(kPasswordSaltBytes);
  Result<std::string> derived =
      co_await pbkdf2_sha256(ctx, std::move(password), salt, kPasswordIterations);
  if (!derived.ok()) co_return derived.take_error();
  co_return "pbkdf2_sha256$" + std::to_string(kPasswordIterations) + "$" + base64url_encode(salt) +
      "$" + base64url_encode(derived.value());
}

Task<bool> verify_password(Ctx& ctx, std::string password, std::string stored) {
  std::optional<Parsed> p = parse_stored(stored);
  bool real = p.has_value() && p->iterations >= 1 && p->iterations <= kMaxPbkdf2Iterations;
  // A fixed dummy with today's parameters: the same PBKDF2 cost as a real check.
  Parsed dummy{kPasswordIterations, std::string(kPasswordSaltBytes, '\x5a'), std::string(32, '\0')};
  const Parsed& use = real ? *p : dummy;
  Result<std::string> derived =
      co_await pbkdf2_sha256(ctx, std::move(password), use.salt, use.iterations);
  if (!derived.ok()) co_return false;
  bool same = constant_time_equal(derived.value(), use.hash);
  co_return real&& same;
}

bool password_needs_rehash(std::string_view stored) {
  std::optional<Parsed> p = parse_stored(stored);
  return !p || p->iterations < kPasswordIterations;
}

}  // namespace ec
