// Real WebCrypto-equivalent operations for the native FakeHost, done with OpenSSL 3, so handler
// tests exercise genuine RS256 signatures and PBKDF2 rather than canned answers.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace ec::testing {

using json = nlohmann::json;

// A fresh RSA-2048 key as a private JWK {kty,n,e,d,p,q,dp,dq,qi}.
json rsa_generate_private_jwk();
// The same key as a PKCS#8 PEM (what a PRIVATE_KEY_PEM secret holds).
std::string rsa_generate_pem();
json rsa_pem_to_private_jwk(std::string_view pem);
std::string rsa_sign(const json& private_jwk, std::string_view data);
bool rsa_verify(const json& public_jwk, std::string_view data, std::string_view signature);
std::string pbkdf2_sha256(std::string_view password, std::string_view salt, int iterations,
                          int bytes);

}  // namespace ec::testing
