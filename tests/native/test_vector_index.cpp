// Brute-force top-k: exact agreement with a naive scalar implementation, tie order, filtering,
// int8 recall, and the D1 blob codecs.
#include <catch2/catch.hpp>

#include "index/vector_index.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#if defined(__clang__)
#pragma clang fp contract(off)  // the reference must round exactly like the index
#endif

using ec::Scored;

namespace {

// The summation order documented in vector_index.cpp, written as plain scalar code.
float naive_dot(const float* a, const float* b, size_t dims) {
  float acc[16] = {};
  size_t i = 0;
  for (; i + 16 <= dims; i += 16) {
    for (size_t j = 0; j < 16; ++j) acc[j] = acc[j] + a[i + j] * b[i + j];
  }
  for (; i + 4 <= dims; i += 4) {
    for (size_t j = 0; j < 4; ++j) acc[j] = acc[j] + a[i + j] * b[i + j];
  }
  float lane[4];
  for (size_t j = 0; j < 4; ++j) lane[j] = (acc[j] + acc[4 + j]) + (acc[8 + j] + acc[12 + j]);
  float total = (lane[0] + lane[1]) + (lane[2] + lane[3]);
  for (; i < dims; ++i) total += a[i] * b[i];
  return total;
}

std::vector<Scored> naive_top_k(const std::vector<float>& scores, size_t k,
                                const uint8_t* mask = nullptr) {
  std::vector<Scored> all;
  for (size_t r = 0; r < scores.size(); ++r) {
    if (mask == nullptr || mask[r] != 0) all.push_back({static_cast<uint32_t>(r), scores[r]});
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const Scored& a, const Scored& b) { return a.score > b.score; });
  all.resize(std::min({all.size(), k, ec::kMaxTopK}));
  return all;
}

std::vector<float> random_unit_rows(size_t rows, size_t dims, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> m(rows * dims);
  for (size_t r = 0; r < rows; ++r) {
    double sq = 0;
    for (size_t d = 0; d < dims; ++d) {
      m[r * dims + d] = normal(rng);
      sq += double{m[r * dims + d]} * m[r * dims + d];
    }
    const auto inv = static_cast<float>(1.0 / std::sqrt(sq));
    for (size_t d = 0; d < dims; ++d) m[r * dims + d] *= inv;
  }
  return m;
}

bool same(const std::vector<Scored>& a, const std::vector<Scored>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].row != b[i].row || std::memcmp(&a[i].score, &b[i].score, sizeof(float)) != 0) {
      return false;
    }
  }
  return true;
}

std::vector<uint32_t> rows_of(const std::vector<Scored>& v) {
  std::vector<uint32_t> rows;
  for (const Scored& s : v) rows.push_back(s.row);
  return rows;
}

}  // namespace

TEST_CASE("dot_f32 matches the documented order and a double-precision dot", "[vector_index]") {
  for (size_t dims : {1u, 3u, 4u, 6u, 16u, 20u, 36u, 768u, 1027u}) {
    const std::vector<float> v = random_unit_rows(2, dims, static_cast<uint32_t>(dims));
    const float got = ec::dot_f32(v.data(), v.data() + dims, dims);
    double exact = 0;
    for (size_t d = 0; d < dims; ++d) exact += double{v[d]} * double{v[dims + d]};
    INFO("dims " << dims);
    const float want = naive_dot(v.data(), v.data() + dims, dims);
    CHECK(std::memcmp(&got, &want, sizeof got) == 0);
    CHECK(std::fabs(got - exact) < 1e-5);
    const float self = ec::dot_f32(v.data(), v.data(), dims);
    CHECK(std::fabs(self - 1.0f) < 1e-5f);
  }
}

TEST_CASE("top_k_cosine agrees exactly with a naive scan", "[vector_index]") {
  uint32_t seed = 1;
  for (size_t dims : {4u, 8u, 12u, 20u, 768u}) {
    for (size_t rows : {0u, 1u, 5u, 99u, 100u, 101u, 1000u}) {
      const std::vector<float> m = random_unit_rows(rows, dims, seed++);
      const std::vector<float> q = random_unit_rows(1, dims, seed++);
      std::vector<float> scores(rows);
      for (size_t r = 0; r < rows; ++r) scores[r] = naive_dot(m.data() + r * dims, q.data(), dims);
      for (size_t k : {0u, 1u, 3u, 10u, 100u, 150u}) {
        std::vector<Scored> got = {{7, 7.0f}};  // stale content must be replaced
        ec::top_k_cosine(m.data(), rows, dims, q.data(), k, got);
        const std::vector<Scored> want = naive_top_k(scores, k);
        INFO("dims " << dims << " rows " << rows << " k " << k);
        CHECK(got.size() == std::min({k, rows, ec::kMaxTopK}));
        CHECK(same(got, want));
      }
    }
  }
}

TEST_CASE("equal scores are ordered by row, NaN ranks last", "[vector_index]") {
  const size_t dims = 4;
  std::vector<float> m(10 * dims, 0.0f);
  for (size_t r : {7u, 2u, 5u}) m[r * dims] = 1.0f;  // rows 2, 5, 7 tie for best
  m[3 * dims] = 0.5f;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  m[0 * dims] = nan;
  const float q[4] = {1, 0, 0, 0};
  std::vector<Scored> out;
  ec::top_k_cosine(m.data(), 10, dims, q, 2, out);
  CHECK(rows_of(out) == std::vector<uint32_t>{2, 5});
  ec::top_k_cosine(m.data(), 10, dims, q, 6, out);
  CHECK(rows_of(out) == std::vector<uint32_t>{2, 5, 7, 3, 1, 4});  // then zeros by row
  ec::top_k_cosine(m.data(), 10, dims, q, 10, out);
  REQUIRE(out.size() == 10);
  CHECK(out.back().row == 0);
  CHECK(std::isinf(out.back().score));
  CHECK(out.back().score < 0);
}

TEST_CASE("top_k_filtered only returns allowed rows", "[vector_index]") {
  const size_t rows = 500;
  const size_t dims = 768;
  const std::vector<float> m = random_unit_rows(rows, dims, 42);
  const std::vector<float> q = random_unit_rows(1, dims, 43);
  std::vector<float> scores(rows);
  for (size_t r = 0; r < rows; ++r) scores[r] = naive_dot(m.data() + r * dims, q.data(), dims);

  std::vector<uint8_t> mask(rows);
  for (size_t r = 0; r < rows; ++r) mask[r] = (r % 3 == 1) ? 1 : 0;
  std::vector<Scored> got;
  ec::top_k_filtered(m.data(), rows, dims, q.data(), 10, got, mask.data());
  CHECK(same(got, naive_top_k(scores, 10, mask.data())));
  for (const Scored& s : got) CHECK(s.row % 3 == 1);
  std::vector<Scored> unfiltered;
  ec::top_k_cosine(m.data(), rows, dims, q.data(), 10, unfiltered);
  CHECK_FALSE(same(got, unfiltered));  // the filter really removed something

  std::fill(mask.begin(), mask.end(), 0);
  mask[17] = 1;
  mask[400] = 1;
  ec::top_k_filtered(m.data(), rows, dims, q.data(), 10, got, mask.data());
  CHECK(same(got, naive_top_k(scores, 10, mask.data())));
  CHECK(got.size() == 2);

  std::fill(mask.begin(), mask.end(), 0);
  ec::top_k_filtered(m.data(), rows, dims, q.data(), 10, got, mask.data());
  CHECK(got.empty());
  ec::top_k_filtered(m.data(), rows, dims, q.data(), 10, got, nullptr);
  CHECK(same(got, unfiltered));
}

TEST_CASE("quantize_int8 and dot_i8", "[vector_index]") {
  const std::vector<float> v = random_unit_rows(1, 768, 5);
  std::vector<int8_t> q(768);
  float scale = 0;
  ec::quantize_int8(v.data(), 768, q.data(), &scale);
  REQUIRE(scale > 0);
  int max_code = 0;
  for (size_t i = 0; i < 768; ++i) {
    CHECK(std::fabs(q[i] * scale - v[i]) <= scale * 0.5f + 1e-7f);
    max_code = std::max(max_code, std::abs(int{q[i]}));
  }
  CHECK(max_code == 127);  // the largest component uses the full range

  const float zeros[8] = {};
  int8_t zq[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  ec::quantize_int8(zeros, 8, zq, &scale);
  CHECK(scale == 0.0f);
  CHECK(std::all_of(zq, zq + 8, [](int8_t c) { return c == 0; }));

  std::mt19937 rng(9);
  std::uniform_int_distribution<int> byte(-128, 127);
  for (size_t dims : {1u, 4u, 15u, 16u, 17u, 768u}) {
    std::vector<int8_t> a(dims), b(dims);
    int64_t want = 0;
    for (size_t i = 0; i < dims; ++i) {
      a[i] = static_cast<int8_t>(byte(rng));
      b[i] = static_cast<int8_t>(byte(rng));
      want += int64_t{a[i]} * b[i];
    }
    CHECK(ec::dot_i8(a.data(), b.data(), dims) == want);
  }
  std::vector<int8_t> extreme(768, -128);
  CHECK(ec::dot_i8(extreme.data(), extreme.data(), 768) == 128 * 128 * 768);
}

TEST_CASE("top_k_int8 agrees with a naive scan and recalls the float top-10", "[vector_index]") {
  const size_t rows = 2000;
  const size_t dims = 768;
  const std::vector<float> m = random_unit_rows(rows, dims, 11);
  std::vector<int8_t> codes(rows * dims);
  std::vector<float> scales(rows);
  for (size_t r = 0; r < rows; ++r) {
    ec::quantize_int8(m.data() + r * dims, dims, codes.data() + r * dims, &scales[r]);
  }
  std::vector<uint8_t> mask(rows, 1);
  mask[0] = 0;
  size_t found = 0;
  size_t total = 0;
  for (uint32_t qi = 0; qi < 20; ++qi) {
    const std::vector<float> q = random_unit_rows(1, dims, 1000 + qi);
    std::vector<int8_t> qc(dims);
    float qs = 0;
    ec::quantize_int8(q.data(), dims, qc.data(), &qs);

    std::vector<Scored> got;
    if (qi < 3) {  // the exact check is slow under sanitizers; three queries suffice
      std::vector<float> int_scores(rows);
      for (size_t r = 0; r < rows; ++r) {
        int32_t d = 0;
        for (size_t i = 0; i < dims; ++i) d += int32_t{codes[r * dims + i]} * qc[i];
        int_scores[r] = static_cast<float>(d) * scales[r] * qs;
      }
      ec::top_k_int8(codes.data(), scales.data(), rows, dims, qc.data(), qs, 10, got);
      CHECK(same(got, naive_top_k(int_scores, 10)));
      ec::top_k_int8(codes.data(), scales.data(), rows, dims, qc.data(), qs, 10, got, mask.data());
      CHECK(same(got, naive_top_k(int_scores, 10, mask.data())));
    }

    std::vector<Scored> exact;
    ec::top_k_cosine(m.data(), rows, dims, q.data(), 10, exact);
    ec::top_k_int8(codes.data(), scales.data(), rows, dims, qc.data(), qs, 10, got);
    std::set<uint32_t> want;
    for (const Scored& s : exact) want.insert(s.row);
    for (const Scored& s : got) found += want.count(s.row);
    total += 10;
  }
  const double recall = static_cast<double>(found) / static_cast<double>(total);
  INFO("int8 recall@10 = " << recall);
  CHECK(recall >= 0.9);
}

TEST_CASE("float32 blobs round-trip little-endian and reject bad input", "[vector_index]") {
  const float v[] = {1.0f, -0.0f, 1e-40f, -3.5f, std::numeric_limits<float>::max(), 0.1f};
  const std::string blob = ec::encode_f32_blob(v, 6);
  REQUIRE(blob.size() == 24);
  CHECK(blob.substr(0, 4) == std::string("\x00\x00\x80\x3f", 4));   // 1.0f, little-endian
  CHECK(blob.substr(12, 4) == std::string("\x00\x00\x60\xc0", 4));  // -3.5f
  std::vector<float> out;
  REQUIRE(ec::decode_f32_blob(blob, out));
  REQUIRE(out.size() == 6);
  CHECK(std::memcmp(out.data(), v, sizeof v) == 0);  // bit-exact, -0 and denormal included
  CHECK(ec::decode_f32_blob(blob, out, 6));
  CHECK_FALSE(ec::decode_f32_blob(blob, out, 5));
  CHECK(out.empty());

  for (size_t cut : {0u, 1u, 3u, 5u, 23u}) {
    INFO("size " << cut);
    out.assign(3, 1.0f);
    CHECK_FALSE(ec::decode_f32_blob(std::string_view(blob).substr(0, cut), out));
    CHECK(out.empty());
  }
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()}) {
    const float w[] = {0.5f, bad};
    CHECK_FALSE(ec::decode_f32_blob(ec::encode_f32_blob(w, 2), out));
  }
}

TEST_CASE("int8 blobs round-trip and reject bad input", "[vector_index]") {
  const int8_t codes[] = {-127, 0, 127, -1, 5};
  const std::string blob = ec::encode_i8_blob(codes, 5, 0.25f);
  REQUIRE(blob.size() == 9);
  CHECK(blob.substr(0, 4) == std::string("\x00\x00\x80\x3e", 4));  // 0.25f
  std::vector<int8_t> out;
  float scale = 0;
  REQUIRE(ec::decode_i8_blob(blob, out, scale, 5));
  CHECK(scale == 0.25f);
  CHECK(out == std::vector<int8_t>(codes, codes + 5));
  CHECK_FALSE(ec::decode_i8_blob(blob, out, scale, 4));
  CHECK_FALSE(ec::decode_i8_blob(std::string_view(blob).substr(0, 4), out, scale));
  CHECK_FALSE(ec::decode_i8_blob("", out, scale));
  CHECK_FALSE(ec::decode_i8_blob(ec::encode_i8_blob(codes, 5, -1.0f), out, scale));
  CHECK_FALSE(ec::decode_i8_blob(
      ec::encode_i8_blob(codes, 5, std::numeric_limits<float>::quiet_NaN()), out, scale));
  CHECK(out.empty());
}
