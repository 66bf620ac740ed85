// fts5_match_query: exact output on small cases, a structural property over random bytes (every
// term is one FTS5 string, so no operator can appear), and real SQLite FTS5: hostile queries never
// raise a syntax error and ordinary ones find the rows they should.
#include <catch2/catch.hpp>

#include "index/fts_query.hpp"

#include <sqlite3.h>

#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

using ec::fts5_match_query;

namespace {

// The terms of a query, or a failure message if it is not `"t1" OR "t2" ...` with every t free
// of '"' (the tokenizer splits on it, so no doubled quote should ever appear either).
std::vector<std::string> terms_of(const std::string& q, std::string& problem) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < q.size()) {
    if (!out.empty()) {
      if (q.compare(i, 4, " OR ") != 0) {
        problem = "missing ' OR ' at " + std::to_string(i);
        return out;
      }
      i += 4;
    }
    if (q[i] != '"') {
      problem = "term does not start with a quote at " + std::to_string(i);
      return out;
    }
    const size_t close = q.find('"', i + 1);
    if (close == std::string::npos || close == i + 1) {
      problem = "unterminated or empty term";
      return out;
    }
    out.push_back(q.substr(i + 1, close - i - 1));
    i = close + 1;
  }
  return out;
}

class FtsDb {
 public:
  FtsDb() {
    REQUIRE(sqlite3_open(":memory:", &db_) == SQLITE_OK);
    exec("CREATE VIRTUAL TABLE chunks USING fts5(text, tokenize='unicode61 remove_diacritics 2')");
  }
  ~FtsDb() { sqlite3_close(db_); }
  FtsDb(const FtsDb&) = delete;
  FtsDb& operator=(const FtsDb&) = delete;

  void exec(const char* sql) {
    REQUIRE(sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
  }

  void insert(std::string_view text) {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, "INSERT INTO chunks(text) VALUES (?)", -1, &st, nullptr) ==
            SQLITE_OK);
    sqlite3_bind_text(st, 1, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    REQUIRE(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
  }

  // Row ids matching `query`, best bm25 first; sets error to SQLite's message on failure.
  std::vector<int64_t> match(const std::string& query, std::string& error) {
    std::vector<int64_t> ids;
    sqlite3_stmt* st = nullptr;
    const char* sql = "SELECT rowid FROM chunks WHERE chunks MATCH ? ORDER BY bm25(chunks), rowid";
    REQUIRE(sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) == SQLITE_OK);
    sqlite3_bind_text(st, 1, query.data(), static_cast<int>(query.size()), SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) ids.push_back(sqlite3_column_int64(st, 0));
    if (rc != SQLITE_DONE) error = sqlite3_errmsg(db_);
    sqlite3_finalize(st);
    return ids;
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace

TEST_CASE("fts5_match_query quotes each word and joins with OR", "[fts]") {
  CHECK(fts5_match_query("Hello, World!") == R"("hello" OR "world")");
  CHECK(fts5_match_query("  how   does RAG work?\n") == R"("how" OR "does" OR "rag" OR "work")");
  CHECK(fts5_match_query("version 3.5 of x86_64") ==
        R"("version" OR "3" OR "5" OR "of" OR "x86" OR "64")");
}

TEST_CASE("fts5_match_query drops duplicates case-insensitively and keeps first order", "[fts]") {
  CHECK(fts5_match_query("b A a B c") == R"("b" OR "a" OR "c")");
}

TEST_CASE("fts5_match_query caps the number of terms", "[fts]") {
  CHECK(fts5_match_query("one two three four five", 3) == R"("one" OR "two" OR "three")");
  CHECK(fts5_match_query("one one one two", 2) == R"("one" OR "two")");
  CHECK(fts5_match_query("anything", 0).empty());
  std::string many;
  for (int i = 0; i < 1000; ++i) many += "w" + std::to_string(i) + " ";
  std::string problem;
  CHECK(terms_of(fts5_match_query(many), problem).size() == 32);
  CHECK(problem.empty());
}

TEST_CASE("fts5_match_query is empty when there are no words", "[fts]") {
  CHECK(fts5_match_query("").empty());
  CHECK(fts5_match_query("   \n\t").empty());
  CHECK(fts5_match_query(R"("*^:()-+{}[],.;!?)").empty());
  CHECK(fts5_match_query("\xE2\x80\x9C\xE2\x80\x94\xC2\xBF\xF0\x9F\x98\x80").empty());  // “—¿😀
}

TEST_CASE("fts5_match_query neutralises FTS5 syntax", "[fts]") {
  CHECK(fts5_match_query("NEAR(a b)") == R"("near" OR "a" OR "b")");
  CHECK(fts5_match_query("text:secret") == R"("text" OR "secret")");
  CHECK(fts5_match_query("^start pre*") == R"("start" OR "pre")");
  CHECK(fts5_match_query("a AND b OR NOT c") == R"("a" OR "and" OR "b" OR "or" OR "not" OR "c")");
  CHECK(fts5_match_query(R"(say "hi" "")") == R"("say" OR "hi")");
  CHECK(fts5_match_query("{text}: -x +y") == R"("text" OR "x" OR "y")");
}

TEST_CASE("fts5_match_query keeps non-ASCII letters and splits on invalid UTF-8", "[fts]") {
  CHECK(fts5_match_query("Café Zürich") == "\"café\" OR \"zürich\"");
  CHECK(fts5_match_query("東京 タワー") == "\"東京\" OR \"タワー\"");
  CHECK(fts5_match_query("ab\xFF"
                         "cd\xC3") == R"("ab" OR "cd")");
  CHECK(fts5_match_query(std::string("ab\0cd", 5)) == R"("ab" OR "cd")");
  CHECK(fts5_match_query("\xE6\x9D").empty());  // truncated sequence
}

TEST_CASE("fts5_match_query bounds long terms and long input", "[fts]") {
  const std::string long_word(ec::kMaxFtsTermBytes + 1, 'x');
  CHECK(fts5_match_query(long_word + " ok") == R"("ok")");
  CHECK(fts5_match_query(std::string(ec::kMaxFtsTermBytes, 'y')).size() ==
        ec::kMaxFtsTermBytes + 2);
  // Words past kMaxFtsQueryBytes are never read.
  std::string big(ec::kMaxFtsQueryBytes, ' ');
  big += "late";
  CHECK(fts5_match_query("early" + big) == R"("early")");
  const std::string huge(8 << 20, 'a');
  CHECK(fts5_match_query(huge).empty());  // one over-long "word"
}

TEST_CASE("fts5_match_query output is always a list of quoted terms", "[fts]") {
  std::mt19937 rng(12345);
  const std::string alphabet = "aZ9 \"*^:()-+NEAR,\t\n\xC3\xA9\xFF\xE2\x80\x9C";
  for (int iter = 0; iter < 2000; ++iter) {
    std::string q;
    const size_t len = rng() % 60;
    for (size_t i = 0; i < len; ++i) q.push_back(alphabet[rng() % alphabet.size()]);
    const std::string out = fts5_match_query(q);
    std::string problem;
    const std::vector<std::string> terms = terms_of(out, problem);
    INFO(q << " -> " << out);
    REQUIRE(problem.empty());
    CHECK(terms.size() <= 32);
    CHECK(std::set<std::string>(terms.begin(), terms.end()).size() == terms.size());
    CHECK(fts5_match_query(q) == out);
  }
}

TEST_CASE("fts5_match_query output runs on real SQLite FTS5", "[fts]") {
  FtsDb db;
  db.insert("Retrieval augmented generation combines search with a language model.");  // 1
  db.insert("The café in Zürich serves coffee near the lake.");                        // 2
  db.insert("NEAR and AND are FTS5 operators; text:column filters too.");              // 3
  db.insert("Vector search finds similar embeddings; keyword search uses bm25.");      // 4

  SECTION("hostile inputs never raise an error") {
    const std::vector<std::string> hostile = {"NEAR(a b)",
                                              "\"",
                                              "a:b",
                                              "*",
                                              "^x",
                                              "(",
                                              ")",
                                              "AND OR NOT",
                                              "NOT",
                                              "a AND",
                                              "OR b",
                                              "text:search",
                                              "-search",
                                              "+search",
                                              "{text}: search",
                                              "\"unterminated",
                                              "''",
                                              "NEAR/2",
                                              "search*",
                                              "chunks:*",
                                              "\\",
                                              "\xFF\xFE",
                                              std::string("nul\0byte", 8),
                                              "a\"b\"\"c",
                                              "rank:1",
                                              "col1 : x",
                                              ":",
                                              "^",
                                              "NEAR(",
                                              "AND",
                                              "OR",
                                              "(search OR",
                                              "search)"};
    for (const std::string& h : hostile) {
      const std::string q = fts5_match_query(h);
      INFO(h << " -> " << q);
      if (q.empty()) continue;
      std::string error;
      db.match(q, error);
      CHECK(error.empty());
    }
  }

  SECTION("random inputs never raise an error") {
    std::mt19937 rng(7);
    const std::string alphabet = "ab \"*^:()-+NEAR,OR\xC3\xA9\xFF";
    for (int iter = 0; iter < 300; ++iter) {
      std::string h;
      const size_t len = rng() % 30;
      for (size_t i = 0; i < len; ++i) h.push_back(alphabet[rng() % alphabet.size()]);
      const std::string q = fts5_match_query(h);
      if (q.empty()) continue;
      std::string error;
      db.match(q, error);
      INFO(h << " -> " << q);
      REQUIRE(error.empty());
    }
  }

  SECTION("finds the expected rows") {
    std::string error;
    CHECK(db.match(fts5_match_query("How does keyword search work?"), error) ==
          std::vector<int64_t>{4, 1});
    CHECK(db.match(fts5_match_query("cafe zurich"), error) == std::vector<int64_t>{2});
    CHECK(db.match(fts5_match_query("NEAR(AND)"), error) == std::vector<int64_t>{3, 2});
    CHECK(db.match(fts5_match_query("text:column"), error) == std::vector<int64_t>{3});
    CHECK(db.match(fts5_match_query("LANGUAGE-model!"), error) == std::vector<int64_t>{1});
    CHECK(db.match(fts5_match_query("quantum"), error).empty());
    CHECK(error.empty());
  }
}
