// The offline vector index: exact (brute-force) top-k over vectors kept in D1 BLOB columns, used
// when the Vectorize binding is absent or unusable (DESIGN §4). Rows and queries are L2-normalised,
// so cosine similarity is a dot product. A linear scan of 10,000 x 768 floats is a few milliseconds
// with SIMD, which is cheaper than any index structure at the sizes a local install holds.
//
// Scores are bit-identical between the native and Wasm builds: both dot products sum in the same
// order (16 lanes in 4 accumulators, then a fixed reduction tree), with no FMA contraction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ec {

struct Scored {
  uint32_t row = 0;
  float score = 0;
};

// Largest k honoured (Vectorize's own topK limit); larger requests are clamped.
inline constexpr size_t kMaxTopK = 100;

// Dot product of two float vectors (dims a multiple of 4 is fastest; any dims is correct).
float dot_f32(const float* a, const float* b, size_t dims);

// The min(k, kMaxTopK, rows) rows of a row-major rows x dims matrix with the highest dot product
// with query, sorted by score descending, ties by row ascending. out is replaced. A NaN score
// ranks as -infinity. dims should be a multiple of 4.
void top_k_cosine(const float* matrix, size_t rows, size_t dims, const float* query, size_t k,
                  std::vector<Scored>& out);

// As top_k_cosine, restricted to rows whose allow_mask byte is non-zero (the owner / documentIds
// filter); allow_mask has one byte per row. A null mask allows every row.
void top_k_filtered(const float* matrix, size_t rows, size_t dims, const float* query, size_t k,
                    std::vector<Scored>& out, const uint8_t* allow_mask);

// Symmetric per-vector int8 quantisation: out[i] = round(v[i] / scale), scale = max|v| / 127, so
// v ~= out * scale. A zero vector gets scale 0 and all-zero codes.
void quantize_int8(const float* v, size_t dims, int8_t* out, float* scale);

// Exact int32 dot product of two int8 vectors (|sum| < 2^31 for dims < 133,000).
int32_t dot_i8(const int8_t* a, const int8_t* b, size_t dims);

// Top-k over int8 rows: score = float(dot_i8(row, query)) * row_scales[row] * query_scale.
// Same ordering, clamping and mask rules as top_k_filtered (allow_mask may be null).
void top_k_int8(const int8_t* matrix, const float* row_scales, size_t rows, size_t dims,
                const int8_t* query, float query_scale, size_t k, std::vector<Scored>& out,
                const uint8_t* allow_mask = nullptr);

// D1 BLOB codecs. float32: 4 bytes per value, little-endian IEEE 754. int8: the scale as a
// little-endian float32, then one byte per value. Decoders reject a size that does not match
// (any multiple of 4 when expected_dims is 0), an empty vector, and non-finite values (a NaN
// would poison every score); on failure out is left empty.
std::string encode_f32_blob(const float* v, size_t dims);
bool decode_f32_blob(std::string_view blob, std::vector<float>& out, size_t expected_dims = 0);
std::string encode_i8_blob(const int8_t* v, size_t dims, float scale);
bool decode_i8_blob(std::string_view blob, std::vector<int8_t>& out, float& scale,
                    size_t expected_dims = 0);

}  // namespace ec
