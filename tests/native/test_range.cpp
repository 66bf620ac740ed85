#include "http/range.hpp"

#include <catch2/catch.hpp>

using namespace ec;

namespace {
RangeDecision dr(const char* h, int64_t size) {
  std::string s = h;
  return decide_range(&s, size);
}
}  // namespace

TEST_CASE("Range: single byte ranges, suffixes and open ends", "[range]") {
  RangeDecision d = dr("bytes=0-9", 100);
  REQUIRE(d.kind == RangeDecision::kPartial);
  CHECK(d.range.offset == 0);
  CHECK(d.range.length == 10);
  CHECK(content_range(d.range, 100) == "bytes 0-9/100");

  d = dr("bytes=90-", 100);
  CHECK(d.range.offset == 90);
  CHECK(d.range.length == 10);

  d = dr("bytes=-5", 100);
  CHECK(d.range.offset == 95);
  CHECK(d.range.length == 5);

  d = dr("bytes=-500", 100);  // longer suffix than the file: all of it
  CHECK(d.range.offset == 0);
  CHECK(d.range.length == 100);

  d = dr("bytes=50-5000", 100);  // last beyond the end is clamped
  CHECK(d.range.length == 50);
  CHECK(dr("BYTES = 1-1", 100).kind == RangeDecision::kFull);  // space before '=': malformed
  CHECK(dr("Bytes=1-1", 100).kind == RangeDecision::kPartial);
}

TEST_CASE("Range: unsatisfiable and ignored headers", "[range]") {
  CHECK(dr("bytes=100-", 100).kind == RangeDecision::kUnsatisfiable);
  CHECK(dr("bytes=-0", 100).kind == RangeDecision::kUnsatisfiable);
  CHECK(dr("bytes=0-", 0).kind == RangeDecision::kUnsatisfiable);
  CHECK(decide_range(nullptr, 10).kind == RangeDecision::kFull);
  for (const char* h : {"items=0-1", "bytes=", "bytes=a-b", "bytes=5-3", "bytes=0-1,3-4",
                        "bytes=--1", "bytes=1", "bytes=99999999999999999999-", "bytes=-1-2"}) {
    INFO(h);
    CHECK(dr(h, 100).kind == RangeDecision::kFull);
  }
}

TEST_CASE("Content-Disposition is always an attachment with an RFC 8187 name", "[range]") {
  CHECK(attachment_disposition("report.pdf") ==
        "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf");
  CHECK(attachment_disposition("a\"b é.txt") ==
        "attachment; filename=\"a_b __.txt\"; filename*=UTF-8''a%22b%20%C3%A9.txt");
  CHECK(attachment_disposition("") == "attachment; filename=\"file\"; filename*=UTF-8''");
}
