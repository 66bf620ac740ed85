// Password hashing: PBKDF2-HMAC-SHA256 through WebCrypto at 100,000 iterations — the most Workers
// allows (OWASP asks for 600,000; the gap is documented in the README). The stored form names the
// algorithm and parameters so hashes can be upgraded on the next successful login:
//   pbkdf2_sha256$<iterations>$<salt b64url>$<hash b64url>
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <string>

namespace ec {

inline constexpr int64_t kPasswordIterations = 100000;
inline constexpr size_t kPasswordSaltBytes = 16;

Task<Result<std::string>> hash_password(Ctx& ctx, std::string password);

// Always does the full PBKDF2 work, even when `stored` is empty or malformed (unknown user), so
// login timing does not reveal whether a username exists.
Task<bool> verify_password(Ctx& ctx, std::string password, std::string stored);

// True when `stored` was made with weaker parameters than today's.
bool password_needs_rehash(std::string_view stored);

}  // namespace ec
