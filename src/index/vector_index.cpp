// Brute-force top-k: one SIMD dot product per row into a bounded min-heap. See vector_index.hpp.
#include "index/vector_index.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

#if defined(__clang__)
#pragma clang fp contract(off)  // fused multiply-adds would make native and Wasm scores differ
#endif

namespace ec {
namespace {

bool better(const Scored& a, const Scored& b) {
  return a.score > b.score || (a.score == b.score && a.row < b.row);
}

// Keeps the best k of the offered rows in a heap whose front is the worst kept row. Rows must be
// offered in ascending order: then an equal score never displaces a kept row, so the fast reject
// below needs only one float comparison for the typical (losing) row.
class BoundedTopK {
 public:
  BoundedTopK(size_t k, size_t rows, std::vector<Scored>& out)
      : k_(std::min({k, kMaxTopK, rows})), heap_(out) {
    heap_.clear();
    heap_.reserve(k_);
  }
  bool wants_nothing() const { return k_ == 0; }

  void offer(uint32_t row, float score) {
    if (score != score) score = -std::numeric_limits<float>::infinity();  // NaN ranks last
    if (heap_.size() < k_) {
      heap_.push_back({row, score});
      std::push_heap(heap_.begin(), heap_.end(), better);
    } else if (score > heap_.front().score) {
      std::pop_heap(heap_.begin(), heap_.end(), better);
      heap_.back() = {row, score};
      std::push_heap(heap_.begin(), heap_.end(), better);
    }
  }

  void finish() { std::sort_heap(heap_.begin(), heap_.end(), better); }

 private:
  size_t k_;
  std::vector<Scored>& heap_;
};

template <typename ScoreRow>
void scan(size_t rows, size_t k, const uint8_t* allow_mask, std::vector<Scored>& out,
          ScoreRow&& score_row) {
  BoundedTopK top(k, rows, out);
  if (top.wants_nothing()) return;
  for (size_t r = 0; r < rows; ++r) {
    if (allow_mask != nullptr && allow_mask[r] == 0) continue;
    top.offer(static_cast<uint32_t>(r), score_row(r));
  }
  top.finish();
}

void put_u32_le(std::string& out, uint32_t v) {
  for (int shift = 0; shift < 32; shift += 8) out += static_cast<char>((v >> shift) & 0xFF);
}

uint32_t get_u32_le(const char* p) {
  uint32_t v = 0;
  for (int b = 3; b >= 0; --b) v = (v << 8) | static_cast<unsigned char>(p[b]);
  return v;
}

}  // namespace

// Both branches compute exactly: four 4-lane accumulators over 16-float blocks, leftover 4-float
// blocks into the first, lanes reduced as ((a0+a1)+(a2+a3)) then ((l0+l1)+(l2+l3)), scalar tail.
float dot_f32(const float* a, const float* b, size_t dims) {
  size_t i = 0;
  float lanes[4];
#if defined(__wasm_simd128__)
  v128_t acc0 = wasm_f32x4_splat(0.0f), acc1 = acc0, acc2 = acc0, acc3 = acc0;
  for (; i + 16 <= dims; i += 16) {
    acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
    acc1 =
        wasm_f32x4_add(acc1, wasm_f32x4_mul(wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4)));
    acc2 =
        wasm_f32x4_add(acc2, wasm_f32x4_mul(wasm_v128_load(a + i + 8), wasm_v128_load(b + i + 8)));
    acc3 = wasm_f32x4_add(acc3,
                          wasm_f32x4_mul(wasm_v128_load(a + i + 12), wasm_v128_load(b + i + 12)));
  }
  for (; i + 4 <= dims; i += 4) {
    acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
  }
  wasm_v128_store(lanes, wasm_f32x4_add(wasm_f32x4_add(acc0, acc1), wasm_f32x4_add(acc2, acc3)));
#else
  using f32x4 = float __attribute__((vector_size(16)));
  const auto load = [](const float* p) {
    f32x4 v;
    std::memcpy(&v, p, sizeof v);  // unaligned load
    return v;
  };
  f32x4 acc0 = {0, 0, 0, 0}, acc1 = acc0, acc2 = acc0, acc3 = acc0;
  for (; i + 16 <= dims; i += 16) {
    acc0 += load(a + i) * load(b + i);
    acc1 += load(a + i + 4) * load(b + i + 4);
    acc2 += load(a + i + 8) * load(b + i + 8);
    acc3 += load(a + i + 12) * load(b + i + 12);
  }
  for (; i + 4 <= dims; i += 4) acc0 += load(a + i) * load(b + i);
  const f32x4 sum = (acc0 + acc1) + (acc2 + acc3);
  std::memcpy(lanes, &sum, sizeof lanes);
#endif
  float total = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  for (; i < dims; ++i) total += a[i] * b[i];
  return total;
}

void top_k_cosine(const float* matrix, size_t rows, size_t dims, const float* query, size_t k,
                  std::vector<Scored>& out) {
  top_k_filtered(matrix, rows, dims, query, k, out, nullptr);
}

void top_k_filtered(const float* matrix, size_t rows, size_t dims, const float* query, size_t k,
                    std::vector<Scored>& out, const uint8_t* allow_mask) {
  scan(rows, k, allow_mask, out, [&](size_t r) { return dot_f32(matrix + r * dims, query, dims); });
}

void quantize_int8(const float* v, size_t dims, int8_t* out, float* scale) {
  float max_abs = 0;
  for (size_t i = 0; i < dims; ++i) max_abs = std::max(max_abs, std::fabs(v[i]));  // NaN skipped
  if (!(max_abs > 0) || !std::isfinite(max_abs)) {
    std::fill(out, out + dims, int8_t{0});
    *scale = 0;
    return;
  }
  const float s = max_abs / 127.0f;
  for (size_t i = 0; i < dims; ++i) {
    const float q = v[i] / s;
    const long r = (q == q) ? std::lround(q) : 0;
    out[i] = static_cast<int8_t>(std::clamp(r, -127L, 127L));
  }
  *scale = s;
}

int32_t dot_i8(const int8_t* a, const int8_t* b, size_t dims) {
  size_t i = 0;
  int32_t total = 0;
#if defined(__wasm_simd128__)
  v128_t acc0 = wasm_i32x4_splat(0), acc1 = acc0;
  for (; i + 16 <= dims; i += 16) {
    const v128_t va = wasm_v128_load(a + i);
    const v128_t vb = wasm_v128_load(b + i);
    acc0 = wasm_i32x4_add(acc0, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(va),
                                                     wasm_i16x8_extend_low_i8x16(vb)));
    acc1 = wasm_i32x4_add(acc1, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(va),
                                                     wasm_i16x8_extend_high_i8x16(vb)));
  }
  const v128_t acc = wasm_i32x4_add(acc0, acc1);
  total = wasm_i32x4_extract_lane(acc, 0) + wasm_i32x4_extract_lane(acc, 1) +
          wasm_i32x4_extract_lane(acc, 2) + wasm_i32x4_extract_lane(acc, 3);
#else
  // Widen to 16-bit lanes before multiplying (|product| <= 2^14 fits), then to 32-bit to sum.
  // Integer sums are exact, so the order does not have to match the Wasm branch.
  using i8x16 = int8_t __attribute__((vector_size(16)));
  using i16x16 = int16_t __attribute__((vector_size(32)));
  using i32x16 = int32_t __attribute__((vector_size(64)));
  i32x16 acc = {};
  for (; i + 16 <= dims; i += 16) {
    i8x16 va, vb;
    std::memcpy(&va, a + i, sizeof va);
    std::memcpy(&vb, b + i, sizeof vb);
    const i16x16 prod = __builtin_convertvector(va, i16x16) * __builtin_convertvector(vb, i16x16);
    acc += __builtin_convertvector(prod, i32x16);
  }
  for (int lane = 0; lane < 16; ++lane) total += acc[lane];
#endif
  for (; i < dims; ++i) total += int32_t{a[i]} * int32_t{b[i]};
  return total;
}

void top_k_int8(const int8_t* matrix, const float* row_scales, size_t rows, size_t dims,
                const int8_t* query, float query_scale, size_t k, std::vector<Scored>& out,
                const uint8_t* allow_mask) {
  scan(rows, k, allow_mask, out, [&](size_t r) {
    return static_cast<float>(dot_i8(matrix + r * dims, query, dims)) * row_scales[r] * query_scale;
  });
}

std::string encode_f32_blob(const float* v, size_t dims) {
  std::string out;
  out.reserve(dims * 4);
  for (size_t i = 0; i < dims; ++i) put_u32_le(out, std::bit_cast<uint32_t>(v[i]));
  return out;
}

bool decode_f32_blob(std::string_view blob, std::vector<float>& out, size_t expected_dims) {
  out.clear();
  if (blob.empty() || blob.size() % 4 != 0) return false;
  if (expected_dims != 0 && blob.size() != expected_dims * 4) return false;
  out.resize(blob.size() / 4);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = std::bit_cast<float>(get_u32_le(blob.data() + i * 4));
    if (!std::isfinite(out[i])) {
      out.clear();
      return false;
    }
  }
  return true;
}

std::string encode_i8_blob(const int8_t* v, size_t dims, float scale) {
  std::string out;
  out.reserve(4 + dims);
  put_u32_le(out, std::bit_cast<uint32_t>(scale));
  for (size_t i = 0; i < dims; ++i) out += static_cast<char>(v[i]);
  return out;
}

bool decode_i8_blob(std::string_view blob, std::vector<int8_t>& out, float& scale,
                    size_t expected_dims) {
  out.clear();
  if (blob.size() <= 4) return false;
  if (expected_dims != 0 && blob.size() != 4 + expected_dims) return false;
  const float s = std::bit_cast<float>(get_u32_le(blob.data()));
  if (!std::isfinite(s) || s < 0) return false;
  out.resize(blob.size() - 4);
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<int8_t>(blob[4 + i]);
  scale = s;
  return true;
}

}  // namespace ec
