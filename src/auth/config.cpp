#include "auth/config.hpp"

#include "core/env.hpp"

namespace ec {

AuthConfig AuthConfig::from_env(const Env& env) {
  AuthConfig c;
  auto str = [&](std::string_view key, std::string& out) {
    auto it = env.find(key);
    if (it != env.end() && !it->second.empty()) out = it->second;
  };
  str("JWT_ISSUER", c.issuer);
  str("JWT_AUDIENCE", c.audience);
  str("PRIVATE_KEY_PEM", c.private_key_pem);
  str("KID", c.kid);
  c.access_ttl_s = env_int(env, "ACCESS_TOKEN_TTL_SECONDS", c.access_ttl_s);
  c.refresh_ttl_s = env_int(env, "REFRESH_TOKEN_TTL_SECONDS", c.refresh_ttl_s);
  c.key_rotation_s = env_int(env, "KEY_ROTATION_DAYS", 30) * 86400;
  return c;
}

}  // namespace ec
