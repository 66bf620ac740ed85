// The signing key ring. D1's signing_keys table is the truth; each instance caches it for a
// minute. With PRIVATE_KEY_PEM set, that key signs; otherwise an RSA-2048 pair is generated on
// first use and persisted, so local dev needs no set-up. Keys rotate after KEY_ROTATION_DAYS; a
// retired key stays in the JWKS (and keeps verifying) until every token it signed has expired.
#pragma once

#include "auth/config.hpp"
#include "auth/jwt.hpp"
#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <optional>
#include <string>
#include <vector>

namespace ec {

struct SigningKey {
  std::string kid;
  json public_jwk;   // {kty, n, e}
  json private_jwk;  // null when this instance cannot sign with it
  int64_t created_at_ms = 0;
  std::optional<int64_t> retired_at_ms;
};

// RFC 7638 JWK thumbprint of an RSA public key (base64url SHA-256 of {"e","kty","n"}).
std::string jwk_thumbprint(const json& public_jwk);

class KeyRing {
 public:
  // The key to sign new tokens with, creating/rotating/importing as needed. Returned by value:
  // another request may reload the ring while this one is suspended.
  Task<Result<SigningKey>> signing_key(Ctx& ctx, const AuthConfig& cfg);
  // Keys that may verify tokens right now. `force` reloads from D1 (an unknown kid may have been
  // minted by another instance a moment ago).
  Task<Result<std::vector<VerifyKey>>> verify_keys(Ctx& ctx, const AuthConfig& cfg, bool force);
  // The public JWKS document.
  Task<Result<json>> jwks(Ctx& ctx, const AuthConfig& cfg);

  // Synchronous check for the verification cache: is `kid` still trusted (ring fresh enough)?
  bool still_trusted(std::string_view kid, double now_ms) const;
  void reset();

 private:
  Task<Status> load(Ctx& ctx, const AuthConfig& cfg);
  Task<Status> ensure_loaded(Ctx& ctx, const AuthConfig& cfg, bool force);
  Task<Result<SigningKey>> adopt_secret_key(Ctx& ctx, const AuthConfig& cfg);
  Task<Result<SigningKey>> generate_key(Ctx& ctx, const AuthConfig& cfg);

  std::vector<SigningKey> keys_;  // newest first
  double loaded_at_ms_ = -1;
  std::optional<SigningKey> secret_key_;  // PRIVATE_KEY_PEM, imported once per instance
};

}  // namespace ec
