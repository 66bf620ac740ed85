#include "crypto/sha256.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace ec {

namespace {

// FIPS 180-4 §4.2.2: first 32 bits of the fractional parts of the cube roots of the first 64
// primes.
constexpr std::array<uint32_t, 64> kRoundConstants = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

// FIPS 180-4 §5.3.3: first 32 bits of the fractional parts of the square roots of the first 8
// primes.
constexpr std::array<uint32_t, 8> kInitialState = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

// Byte-wise loads/stores: correct on any host endianness and alignment; compilers fold them into
// a single load plus byte swap where the target has one.
inline uint32_t load_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

inline void store_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

inline uint32_t big_sigma0(uint32_t x) {
  return std::rotr(x, 2) ^ std::rotr(x, 13) ^ std::rotr(x, 22);
}
inline uint32_t big_sigma1(uint32_t x) {
  return std::rotr(x, 6) ^ std::rotr(x, 11) ^ std::rotr(x, 25);
}
inline uint32_t small_sigma0(uint32_t x) { return std::rotr(x, 7) ^ std::rotr(x, 18) ^ (x >> 3); }
inline uint32_t small_sigma1(uint32_t x) { return std::rotr(x, 17) ^ std::rotr(x, 19) ^ (x >> 10); }
// Ch and Maj in their reduced forms (one fewer operation each than the textbook definitions).
inline uint32_t choose(uint32_t e, uint32_t f, uint32_t g) { return g ^ (e & (f ^ g)); }
inline uint32_t majority(uint32_t a, uint32_t b, uint32_t c) { return (a & b) | (c & (a | b)); }

// One round. Instead of shifting the eight working variables each round, callers rotate the
// argument order; only d and h change, so an 8-round unrolled body needs no register moves.
inline void compress_round(uint32_t a, uint32_t b, uint32_t c, uint32_t& d, uint32_t e, uint32_t f,
                           uint32_t g, uint32_t& h, uint32_t k_plus_w) {
  uint32_t t1 = h + big_sigma1(e) + choose(e, f, g) + k_plus_w;
  uint32_t t2 = big_sigma0(a) + majority(a, b, c);
  d += t1;
  h = t1 + t2;
}

std::string_view as_view(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace

Sha256::Sha256() : state_(kInitialState) {}

void Sha256::compress(const uint8_t* block) {
  std::array<uint32_t, 64> w;
  for (int i = 0; i < 16; ++i) w[i] = load_be32(block + 4 * i);
  for (int i = 16; i < 64; ++i) {
    w[i] = small_sigma1(w[i - 2]) + w[i - 7] + small_sigma0(w[i - 15]) + w[i - 16];
  }
  for (int i = 0; i < 64; ++i) w[i] += kRoundConstants[i];

  uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3];
  uint32_t e = state_[4], f = state_[5], g = state_[6], h = state_[7];
  // Eight rounds per iteration, so the variable rotation comes back to where it started; fully
  // unrolling all 64 would only grow the Wasm module.
  for (int i = 0; i < 64; i += 8) {
    compress_round(a, b, c, d, e, f, g, h, w[i + 0]);
    compress_round(h, a, b, c, d, e, f, g, w[i + 1]);
    compress_round(g, h, a, b, c, d, e, f, w[i + 2]);
    compress_round(f, g, h, a, b, c, d, e, w[i + 3]);
    compress_round(e, f, g, h, a, b, c, d, w[i + 4]);
    compress_round(d, e, f, g, h, a, b, c, w[i + 5]);
    compress_round(c, d, e, f, g, h, a, b, w[i + 6]);
    compress_round(b, c, d, e, f, g, h, a, w[i + 7]);
  }
  state_[0] += a;
  state_[1] += b;
  state_[2] += c;
  state_[3] += d;
  state_[4] += e;
  state_[5] += f;
  state_[6] += g;
  state_[7] += h;
}

void Sha256::update(std::string_view data) {
  // Early return also keeps memcpy away from a null data() (UB even for zero bytes).
  if (data.empty()) return;
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  size_t n = data.size();
  total_bytes_ += n;

  if (buffered_ > 0) {
    size_t take = std::min(n, kBlockSize - buffered_);
    std::memcpy(buffer_.data() + buffered_, p, take);
    buffered_ += take;
    p += take;
    n -= take;
    if (buffered_ < kBlockSize) return;
    compress(buffer_.data());
    buffered_ = 0;
  }
  // Whole blocks are compressed straight from the caller's memory, without copying.
  for (; n >= kBlockSize; p += kBlockSize, n -= kBlockSize) compress(p);
  if (n > 0) {
    std::memcpy(buffer_.data(), p, n);
    buffered_ = n;
  }
}

Digest Sha256::finish() {
  // FIPS 180-4 §5.1.1: a 1 bit, zeros up to 56 mod 64, then the length in bits (64-bit BE).
  const uint64_t bit_length = total_bytes_ * 8;
  buffer_[buffered_++] = 0x80;
  if (buffered_ > kBlockSize - 8) {
    std::fill(buffer_.begin() + static_cast<std::ptrdiff_t>(buffered_), buffer_.end(), 0);
    compress(buffer_.data());
    buffered_ = 0;
  }
  std::fill(buffer_.begin() + static_cast<std::ptrdiff_t>(buffered_), buffer_.end() - 8, 0);
  store_be32(buffer_.data() + 56, static_cast<uint32_t>(bit_length >> 32));
  store_be32(buffer_.data() + 60, static_cast<uint32_t>(bit_length));
  compress(buffer_.data());

  Digest out;
  for (int i = 0; i < 8; ++i) store_be32(out.data() + 4 * i, state_[i]);
  return out;
}

Digest sha256(std::string_view data) {
  Sha256 hasher;
  hasher.update(data);
  return hasher.finish();
}

Digest hmac_sha256(std::string_view key, std::string_view message) {
  // RFC 2104: keys longer than a block are hashed first; shorter ones are zero-padded.
  std::array<uint8_t, Sha256::kBlockSize> key_block{};
  if (key.size() > Sha256::kBlockSize) {
    Digest hashed = sha256(key);
    std::memcpy(key_block.data(), hashed.data(), hashed.size());
  } else if (!key.empty()) {
    std::memcpy(key_block.data(), key.data(), key.size());
  }

  std::array<uint8_t, Sha256::kBlockSize> pad;
  for (size_t i = 0; i < pad.size(); ++i) pad[i] = key_block[i] ^ 0x36;
  Sha256 inner;
  inner.update(as_view(pad.data(), pad.size()));
  inner.update(message);
  Digest inner_digest = inner.finish();

  for (size_t i = 0; i < pad.size(); ++i) pad[i] = key_block[i] ^ 0x5c;
  Sha256 outer;
  outer.update(as_view(pad.data(), pad.size()));
  outer.update(as_view(inner_digest.data(), inner_digest.size()));
  return outer.finish();
}

std::string digest_bytes(const Digest& digest) {
  return std::string(as_view(digest.data(), digest.size()));
}

}  // namespace ec
