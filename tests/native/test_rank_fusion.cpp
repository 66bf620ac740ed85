// Reciprocal rank fusion against hand-computed scores and tie rules.
#include <catch2/catch.hpp>

#include "index/rank_fusion.hpp"

#include <string>
#include <vector>

using ec::Fused;
using ec::rrf;
using Lists = std::vector<std::vector<std::string>>;

namespace {

std::vector<std::string> ids_of(const std::vector<Fused>& fused) {
  std::vector<std::string> ids;
  for (const Fused& f : fused) ids.push_back(f.id);
  return ids;
}

}  // namespace

TEST_CASE("rrf sums 1/(k + rank) across lists", "[rank_fusion]") {
  const std::vector<Fused> got = rrf(Lists{{"a", "b", "c"}, {"b", "c", "d"}});
  // b: 1/62 + 1/61, c: 1/63 + 1/62, a: 1/61, d: 1/63.
  REQUIRE(ids_of(got) == std::vector<std::string>{"b", "c", "a", "d"});
  CHECK(got[0].score == Approx(1.0 / 61 + 1.0 / 62).epsilon(1e-12));
  CHECK(got[1].score == Approx(1.0 / 62 + 1.0 / 63).epsilon(1e-12));
  CHECK(got[2].score == Approx(1.0 / 61).epsilon(1e-12));
  CHECK(got[3].score == Approx(1.0 / 63).epsilon(1e-12));
  CHECK(got[0].best_rank == 1);
  CHECK(got[0].lists == 2);
  CHECK(got[1].best_rank == 2);
  CHECK(got[2].lists == 1);
  CHECK(got[3].best_rank == 3);
}

TEST_CASE("rrf honours k_constant and top_n", "[rank_fusion]") {
  const std::vector<Fused> got = rrf(Lists{{"x", "y", "z"}, {"z"}}, 1, 2);
  // k = 1: z = 1/4 + 1/2 = 0.75, x = 1/2, y = 1/3.
  REQUIRE(got.size() == 2);
  CHECK(got[0].id == "z");
  CHECK(got[0].score == 0.75);
  CHECK(got[1].id == "x");
  CHECK(got[1].score == 0.5);
  CHECK(rrf(Lists{{"x", "y"}}, 60, 0).empty());
  CHECK(rrf(Lists{}).empty());
  CHECK(rrf(Lists{{}, {}}).empty());
  CHECK(rrf(Lists{{"p", "q", "r"}}, 60, 100).size() == 3);
}

TEST_CASE("rrf ties: equal score, then best single rank, then id", "[rank_fusion]") {
  // Swapped ranks: identical scores and best ranks, so the id decides.
  CHECK(ids_of(rrf(Lists{{"y", "x"}, {"x", "y"}})) == std::vector<std::string>{"x", "y"});
  // k = 0: a = 1/2 + 1/2 = 1 (best rank 2); b and c = 1/1 = 1 (best rank 1), so a comes last
  // although its id is smallest; b and c tie on rank too and go by id.
  const std::vector<Fused> got = rrf(Lists{{"c", "a"}, {"b", "a"}}, 0);
  REQUIRE(ids_of(got) == std::vector<std::string>{"b", "c", "a"});
  CHECK(got[0].score == 1.0);
  CHECK(got[2].score == 1.0);
  CHECK(got[2].best_rank == 2);
}

TEST_CASE("rrf counts an id once per list, at its first position", "[rank_fusion]") {
  const std::vector<Fused> got = rrf(Lists{{"a", "a", "b"}}, 60);
  REQUIRE(got.size() == 2);
  CHECK(got[0].id == "a");
  CHECK(got[0].score == Approx(1.0 / 61).epsilon(1e-12));
  CHECK(got[0].lists == 1);
  CHECK(got[1].id == "b");
  CHECK(got[1].score == Approx(1.0 / 63).epsilon(1e-12));  // its position, 3
}

TEST_CASE("rrf does not depend on the order of the lists", "[rank_fusion]") {
  const std::vector<std::string> l1 = {"d1", "d2", "d3", "d4", "d5"};
  const std::vector<std::string> l2 = {"d5", "d3", "d1", "d6"};
  const std::vector<std::string> l3 = {"d2", "d7", "d5", "d1"};
  const std::vector<Fused> a = rrf(Lists{l1, l2, l3}, 60, 10);
  const std::vector<Fused> b = rrf(Lists{l3, l1, l2}, 60, 10);
  const std::vector<Fused> c = rrf(Lists{l2, l3, l1}, 60, 10);
  REQUIRE(a.size() == 7);
  REQUIRE(b.size() == 7);
  REQUIRE(c.size() == 7);
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].id == b[i].id);
    CHECK(a[i].id == c[i].id);
    CHECK(a[i].score == b[i].score);  // exactly: same terms summed in the same order
    CHECK(a[i].score == c[i].score);
  }
  // d1: 1/61 + 1/63 + 1/64; d5: 1/61 + 1/63 + 1/65; d2: 1/61 + 1/62.
  CHECK(ids_of(a) == std::vector<std::string>{"d1", "d5", "d2", "d3", "d7", "d4", "d6"});
  CHECK(a[0].score == Approx(1.0 / 61 + 1.0 / 63 + 1.0 / 64).epsilon(1e-12));
}
