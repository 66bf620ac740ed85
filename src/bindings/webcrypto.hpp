// WebCrypto as typed calls: what the core needs that must not be hand-rolled (RSA, and PBKDF2 at
// a cost only the host's native code pays cheaply). SHA-256/HMAC are in src/crypto because the
// core needs them synchronously on hot paths.
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <string>

namespace ec {

// Workers caps PBKDF2 at 100,000 iterations (workerd#1346); local workerd does not enforce it, so
// the core does: a higher count would pass every local test and fail in production.
inline constexpr int64_t kMaxPbkdf2Iterations = 100000;

// Derives 32 bytes with PBKDF2-HMAC-SHA256. Iterations above the cap are refused (500).
Task<Result<std::string>> pbkdf2_sha256(Ctx& ctx, std::string password, std::string salt,
                                        int64_t iterations);

struct RsaKeyPair {
  json private_jwk;
  json public_jwk;  // {kty, n, e} only
};

// RSASSA-PKCS1-v1_5 with SHA-256 (JWS "RS256").
Task<Result<std::string>> rsa_sign(Ctx& ctx, json private_jwk, std::string data);
Task<Result<bool>> rsa_verify(Ctx& ctx, json public_jwk, std::string data, std::string signature);
Task<Result<RsaKeyPair>> rsa_generate(Ctx& ctx);
// Imports a PKCS#8 PEM private key (the PRIVATE_KEY_PEM secret) and exports it as JWKs.
Task<Result<RsaKeyPair>> rsa_import_pem(Ctx& ctx, std::string pem);

}  // namespace ec
