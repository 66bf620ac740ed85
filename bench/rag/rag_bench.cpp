// RAG building blocks, timed alone: the chunker and the local (brute-force) vector index. One
// source, built twice: natively (native-release, `edgechat_rag_bench`) and as a WASI command
// (wasm-release, `edgechat_rag_bench.opt.wasm`, the core's compile flags incl. -msimd128, linked
// against the same edgechat_core objects and run through the same wasm-opt -O3 as core.wasm).
//
//   edgechat_rag_bench TEXT_FILE [chunk_reps] [queries]   → one JSON object on stdout
//
// chunker: ec::chunk_text({text, headings, "markdown"}, {512, 64}) over the whole file, one
//          warm-up then chunk_reps timed runs; median wall time → MB/s (10^6 bytes of UTF-8 per
//          second). Headings come from a trivial scan for lines starting with '#'; that scan is
//          outside the timed region. count + checksum of the chunk ranges let the caller check
//          that native and Wasm cut the same chunks.
// top-k:   10,000 x 768 deterministic random unit vectors (splitmix64, so native and Wasm see the
//          same bits), queries = a random row plus as much noise, normalised. Each query is timed
//          alone: ec::top_k_cosine (float32) and ec::top_k_int8 (rows and queries quantised
//          beforehand, as they are stored); k = 10; median / p90 / min over the queries after a
//          warm-up. int8 recall@10 against the float32 result is reported beside it.
//
// Timing uses std::chrono::steady_clock (in Wasm: WASI clock_time_get). This is a bench-only
// module: unlike the Worker's core it may import WASI functions.
#include "extract/extracted.hpp"
#include "index/vector_index.hpp"
#include "text/chunker.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  const size_t m = xs.size() / 2;
  return xs.size() % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
}

double percentile(std::vector<double> xs, double p) {
  std::sort(xs.begin(), xs.end());
  return xs[std::min(xs.size() - 1, static_cast<size_t>(p / 100 * static_cast<double>(xs.size())))];
}

bool read_file(const char* path, std::string& out) {
  FILE* f = std::fopen(path, "rb");
  if (!f) return false;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  const bool ok = !std::ferror(f);
  std::fclose(f);
  return ok;
}

// Lines starting with 1-6 '#' and a space are headings; the section starts at the line.
std::vector<ec::Heading> scan_headings(const std::string& t) {
  std::vector<ec::Heading> out;
  for (size_t line = 0; line < t.size();) {
    size_t eol = t.find('\n', line);
    if (eol == std::string::npos) eol = t.size();
    size_t h = line;
    while (h < eol && t[h] == '#') h++;
    if (h > line && h - line <= 6 && h < eol && t[h] == ' ') {
      out.push_back({static_cast<int>(h - line), t.substr(h + 1, eol - h - 1), line});
    }
    line = eol + 1;
  }
  return out;
}

uint64_t fnv(uint64_t h, uint64_t v) {
  for (int i = 0; i < 8; i++) h = (h ^ ((v >> (8 * i)) & 0xFF)) * 0x100000001B3ULL;
  return h;
}

struct SplitMix {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  float uniform() {
    return static_cast<float>(next() >> 40) * (2.0f / 16777216.0f) - 1.0f;
  }  // [-1, 1)
};

void normalise(float* v, size_t dims) {
  double ss = 0;
  for (size_t i = 0; i < dims; i++) ss += static_cast<double>(v[i]) * v[i];
  const float inv = static_cast<float>(1.0 / std::sqrt(ss));
  for (size_t i = 0; i < dims; i++) v[i] *= inv;
}

struct Stats {
  double median_ms, p90_ms, min_ms, mean_ms;
};
Stats stats(const std::vector<double>& xs) {
  double sum = 0;
  for (double x : xs) sum += x;
  return {median(xs), percentile(xs, 90), *std::min_element(xs.begin(), xs.end()),
          sum / static_cast<double>(xs.size())};
}
void print_stats(const char* name, const Stats& s, const char* extra) {
  std::printf("\"%s\":{\"medianMs\":%.4f,\"p90Ms\":%.4f,\"minMs\":%.4f,\"meanMs\":%.4f%s}", name,
              s.median_ms, s.p90_ms, s.min_ms, s.mean_ms, extra);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s TEXT_FILE [chunk_reps] [queries]\n", argv[0]);
    return 2;
  }
  const int reps = argc > 2 ? std::max(1, std::atoi(argv[2])) : 7;
  const size_t queries = argc > 3 ? static_cast<size_t>(std::max(1, std::atoi(argv[3]))) : 200;

  // ---- chunker
  ec::ExtractedText doc;
  if (!read_file(argv[1], doc.text)) {
    std::fprintf(stderr, "cannot read %s\n", argv[1]);
    return 1;
  }
  doc.headings = scan_headings(doc.text);
  doc.format = "markdown";
  const ec::ChunkOptions opt{512, 64};

  std::vector<double> chunk_ms;
  size_t n_chunks = 0, max_chars = 0;
  uint64_t sum = 0xCBF29CE484222325ULL;
  for (int i = 0; i <= reps; i++) {  // run 0 is the warm-up
    const auto t0 = Clock::now();
    auto r = ec::chunk_text(doc, opt);
    const double ms = ms_since(t0);
    if (!r.ok()) {
      std::fprintf(stderr, "chunk_text failed: %s\n", r.error().message.c_str());
      return 1;
    }
    if (i > 0) chunk_ms.push_back(ms);
    if (i == 0) {
      n_chunks = r->size();
      for (const auto& c : *r) {
        sum = fnv(fnv(sum, c.start), c.end);
        max_chars = std::max(max_chars, c.char_end - c.char_start);
      }
    }
  }
  const double bytes = static_cast<double>(doc.text.size());
  const double med = median(chunk_ms);

  // ---- top-k
  constexpr size_t kRows = 10000, kDims = 768, kK = 10;
  SplitMix rng{42};
  std::vector<float> matrix(kRows * kDims);
  for (auto& x : matrix) x = rng.uniform();
  for (size_t r = 0; r < kRows; r++) normalise(&matrix[r * kDims], kDims);
  std::vector<int8_t> qmatrix(kRows * kDims);
  std::vector<float> scales(kRows);
  for (size_t r = 0; r < kRows; r++)
    ec::quantize_int8(&matrix[r * kDims], kDims, &qmatrix[r * kDims], &scales[r]);

  const size_t warmup = 5, total = warmup + queries;
  std::vector<float> qs(total * kDims);
  std::vector<int8_t> qq(total * kDims);
  std::vector<float> qscale(total);
  std::vector<uint32_t> source(total);
  for (size_t q = 0; q < total; q++) {
    float* v = &qs[q * kDims];
    source[q] = static_cast<uint32_t>(rng.next() % kRows);
    for (size_t i = 0; i < kDims; i++) v[i] = matrix[source[q] * kDims + i] + rng.uniform() / 16.0f;
    normalise(v, kDims);
    ec::quantize_int8(v, kDims, &qq[q * kDims], &qscale[q]);
  }

  std::vector<double> f32_ms, i8_ms;
  std::vector<ec::Scored> out_f, out_i;
  size_t top1_hits = 0, recall_hits = 0;
  uint64_t topk_sum = 0xCBF29CE484222325ULL;
  for (size_t q = 0; q < total; q++) {
    auto t0 = Clock::now();
    ec::top_k_cosine(matrix.data(), kRows, kDims, &qs[q * kDims], kK, out_f);
    const double f = ms_since(t0);
    t0 = Clock::now();
    ec::top_k_int8(qmatrix.data(), scales.data(), kRows, kDims, &qq[q * kDims], qscale[q], kK,
                   out_i);
    const double i8 = ms_since(t0);
    if (q < warmup) continue;
    f32_ms.push_back(f);
    i8_ms.push_back(i8);
    if (!out_f.empty() && out_f[0].row == source[q]) top1_hits++;
    for (const auto& s : out_f) topk_sum = fnv(topk_sum, s.row);
    for (const auto& a : out_i) {
      for (const auto& b : out_f) recall_hits += a.row == b.row;
    }
  }

#if defined(__wasm__)
  const char* target = "wasm32-wasi";
#else
  const char* target = "native";
#endif
  std::printf(
      "{\"target\":\"%s\",\"chunker\":{\"bytes\":%zu,\"headings\":%zu,\"maxChars\":%zu,\"overlap\":"
      "%zu,"
      "\"reps\":%d,\"chunks\":%zu,\"longestChunkChars\":%zu,\"checksum\":\"%016llx\","
      "\"medianMs\":%.3f,\"minMs\":%.3f,\"mbPerS\":%.2f,\"bestMbPerS\":%.2f},",
      target, doc.text.size(), doc.headings.size(), opt.max_chars, opt.overlap, reps, n_chunks,
      max_chars, static_cast<unsigned long long>(sum), med,
      *std::min_element(chunk_ms.begin(), chunk_ms.end()), bytes / 1e6 / (med / 1e3),
      bytes / 1e6 / (*std::min_element(chunk_ms.begin(), chunk_ms.end()) / 1e3));
  std::printf(
      "\"topk\":{\"rows\":%zu,\"dims\":%zu,\"k\":%zu,\"queries\":%zu,\"warmup\":%zu,"
      "\"top1IsSource\":%.3f,\"checksum\":\"%016llx\",",
      kRows, kDims, kK, queries, warmup,
      static_cast<double>(top1_hits) / static_cast<double>(queries),
      static_cast<unsigned long long>(topk_sum));
  print_stats("f32", stats(f32_ms), "");
  std::printf(",");
  char extra[64];
  std::snprintf(extra, sizeof extra, ",\"recallAt10VsF32\":%.3f",
                static_cast<double>(recall_hits) / static_cast<double>(queries * kK));
  print_stats("int8", stats(i8_ms), extra);
  std::printf("}}\n");
  return 0;
}
