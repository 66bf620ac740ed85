#include "auth/admin.hpp"

#include "crypto/ct.hpp"
#include "crypto/sha256.hpp"

namespace ec {

namespace {
// Short keys are guessable; refusing them keeps a placeholder like "admin" from ever working.
constexpr size_t kMinAdminKeyBytes = 16;
}  // namespace

Status require_admin(const Ctx& ctx) {
  const std::string* sent = ctx.request().header("x-admin-key");
  if (sent == nullptr || sent->empty()) sent = ctx.request().header("x-admin-token");
  std::string_view configured = ctx.env("ADMIN_KEY");
  if (configured.size() < kMinAdminKeyBytes) {
    return api_error(Err::admin_disabled);
  }
  if (sent == nullptr || sent->empty()) {
    return api_error(Err::admin_key_required);
  }
  // Hashing first gives both sides the same length, so the compare's time says nothing.
  if (!constant_time_equal(digest_bytes(sha256(*sent)), digest_bytes(sha256(configured)))) {
    return api_error(Err::admin_key_invalid);
  }
  return ok_status();
}

}  // namespace ec
