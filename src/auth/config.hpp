// Auth settings, read once from the Worker's env (see README "Configuration").
#pragma once

#include "core/context.hpp"

#include <cstdint>
#include <string>

namespace ec {

struct AuthConfig {
  std::string issuer = "edgechat";        // JWT_ISSUER
  std::string audience = "edgechat-api";  // JWT_AUDIENCE
  int64_t access_ttl_s = 900;             // ACCESS_TOKEN_TTL_SECONDS (15 minutes)
  int64_t refresh_ttl_s = 30 * 86400;     // REFRESH_TOKEN_TTL_SECONDS
  int64_t key_rotation_s = 30 * 86400;    // KEY_ROTATION_DAYS
  int64_t leeway_s = 30;                  // clock skew tolerated on exp/nbf/iat
  std::string private_key_pem;            // PRIVATE_KEY_PEM (secret); empty → generated keys
  std::string kid;                        // KID for PRIVATE_KEY_PEM; empty → RFC 7638 thumbprint

  static AuthConfig from_env(const Env& env);
};

}  // namespace ec
