// SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104), in the core rather than behind an effect:
// they run on every request (session token MACs, ETags, cache keys), so a round trip through the
// host's WebCrypto would cost more than the hash. Nothing here allocates on the heap.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ec {

using Digest = std::array<uint8_t, 32>;

// Incremental hasher: update() any number of times, then finish() once. finish() leaves the
// object in an unspecified state; construct a new one to hash again.
class Sha256 {
 public:
  static constexpr size_t kBlockSize = 64;

  Sha256();
  void update(std::string_view data);
  Digest finish();

 private:
  void compress(const uint8_t* block);

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, kBlockSize> buffer_{};
  size_t buffered_ = 0;       // bytes waiting in buffer_, always < kBlockSize between calls
  uint64_t total_bytes_ = 0;  // message length so far; the padding encodes it in bits
};

Digest sha256(std::string_view data);
Digest hmac_sha256(std::string_view key, std::string_view message);

// The digest as a 32-byte binary string (for base64url/hex encoding or constant-time compare).
std::string digest_bytes(const Digest& digest);

}  // namespace ec
