#include "support/openssl_crypto.hpp"

#include "crypto/encoding.hpp"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

namespace ec::testing {

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("openssl: ") + what);
}

std::string bn_b64(const EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  check(EVP_PKEY_get_bn_param(key, name, &bn) == 1, name);
  std::string bytes(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_free(bn);
  return base64url_encode(bytes);
}

json to_jwk(const EVP_PKEY* key) {
  return {{"kty", "RSA"},
          {"n", bn_b64(key, OSSL_PKEY_PARAM_RSA_N)},
          {"e", bn_b64(key, OSSL_PKEY_PARAM_RSA_E)},
          {"d", bn_b64(key, OSSL_PKEY_PARAM_RSA_D)},
          {"p", bn_b64(key, OSSL_PKEY_PARAM_RSA_FACTOR1)},
          {"q", bn_b64(key, OSSL_PKEY_PARAM_RSA_FACTOR2)},
          {"dp", bn_b64(key, OSSL_PKEY_PARAM_RSA_EXPONENT1)},
          {"dq", bn_b64(key, OSSL_PKEY_PARAM_RSA_EXPONENT2)},
          {"qi", bn_b64(key, OSSL_PKEY_PARAM_RSA_COEFFICIENT1)}};
}

Pkey from_jwk(const json& jwk, bool with_private) {
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  std::vector<BIGNUM*> owned;
  auto push = [&](const char* param, const char* member) {
    auto raw = base64url_decode(jwk.at(member).get<std::string>());
    check(raw.has_value(), member);
    BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw->data()),
                           static_cast<int>(raw->size()), nullptr);
    owned.push_back(bn);
    check(OSSL_PARAM_BLD_push_BN(bld, param, bn) == 1, param);
  };
  push(OSSL_PKEY_PARAM_RSA_N, "n");
  push(OSSL_PKEY_PARAM_RSA_E, "e");
  if (with_private) {
    push(OSSL_PKEY_PARAM_RSA_D, "d");
    push(OSSL_PKEY_PARAM_RSA_FACTOR1, "p");
    push(OSSL_PKEY_PARAM_RSA_FACTOR2, "q");
    push(OSSL_PKEY_PARAM_RSA_EXPONENT1, "dp");
    push(OSSL_PKEY_PARAM_RSA_EXPONENT2, "dq");
    push(OSSL_PKEY_PARAM_RSA_COEFFICIENT1, "qi");
  }
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
  EVP_PKEY* key = nullptr;
  check(EVP_PKEY_fromdata_init(ctx) == 1, "fromdata_init");
  check(EVP_PKEY_fromdata(ctx, &key, with_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                          params) == 1,
        "fromdata");
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  for (BIGNUM* bn : owned) BN_free(bn);
  return Pkey(key);
}

}  // namespace

json rsa_generate_private_jwk() {
  Pkey key(EVP_RSA_gen(2048));
  check(key != nullptr, "EVP_RSA_gen");
  return to_jwk(key.get());
}

std::string rsa_generate_pem() {
  Pkey key(EVP_RSA_gen(2048));
  check(key != nullptr, "EVP_RSA_gen");
  BIO* bio = BIO_new(BIO_s_mem());
  check(PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  return pem;
}

json rsa_pem_to_private_jwk(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) throw std::runtime_error("openssl: bad PEM");
  Pkey owned(key);
  return to_jwk(owned.get());
}

std::string rsa_sign(const json& private_jwk, std::string_view data) {
  Pkey key = from_jwk(private_jwk, true);
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  check(EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, key.get()) == 1, "sign init");
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  check(EVP_DigestSign(md, nullptr, &len, in, data.size()) == 1, "sign len");
  std::string sig(len, '\0');
  check(
      EVP_DigestSign(md, reinterpret_cast<unsigned char*>(sig.data()), &len, in, data.size()) == 1,
      "sign");
  EVP_MD_CTX_free(md);
  sig.resize(len);
  return sig;
}

bool rsa_verify(const json& public_jwk, std::string_view data, std::string_view signature) {
  Pkey key = from_jwk(public_jwk, false);
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  check(EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, key.get()) == 1, "verify init");
  int rc = EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                            data.size());
  EVP_MD_CTX_free(md);
  return rc == 1;
}

std::string pbkdf2_sha256(std::string_view password, std::string_view salt, int iterations,
                          int bytes) {
  std::string out(static_cast<size_t>(bytes), '\0');
  check(PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                          reinterpret_cast<const unsigned char*>(salt.data()),
                          static_cast<int>(salt.size()), iterations, EVP_sha256(), bytes,
                          reinterpret_cast<unsigned char*>(out.data())) == 1,
        "pbkdf2");
  return out;
}

}  // namespace ec::testing
