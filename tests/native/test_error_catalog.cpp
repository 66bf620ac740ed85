// The error catalog (src/core/error_catalog.def) is the one place a code and its status are
// stated; these tests keep it well-formed and keep README.md from contradicting it.
#include "core/error.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

using namespace ec;

namespace {

const std::regex kCodeShape("^[a-z0-9_]+\\.[a-z0-9_]+$");

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// EDGECHAT_SOURCE_DIR comes from CMake, as for the fixtures.
std::string read_readme() { return read_file(std::string(EDGECHAT_SOURCE_DIR) + "/README.md"); }

const ErrorInfo* find_code(std::string_view code) {
  for (const ErrorInfo& e : error_catalog()) {
    if (e.code == code) return &e;
  }
  return nullptr;
}

// The row README's error table must have for `e`.
std::string table_row(const ErrorInfo& e) {
  return "| `" + std::string(e.code) + "` | " + std::to_string(e.status) + " | " +
         std::string(e.message) + " |";
}

}  // namespace

TEST_CASE("error catalog: codes are unique, sorted and dotted lower-case", "[error_catalog]") {
  std::span<const ErrorInfo> all = error_catalog();
  REQUIRE(all.size() > 100);
  for (size_t i = 0; i < all.size(); ++i) {
    INFO(all[i].code);
    CHECK(std::regex_match(std::string(all[i].code), kCodeShape));
    // Strictly increasing: sorted, and no code twice.
    if (i > 0) CHECK(all[i - 1].code < all[i].code);
  }
}

TEST_CASE("error catalog: statuses are 4xx/5xx, messages are set", "[error_catalog]") {
  for (const ErrorInfo& e : error_catalog()) {
    INFO(e.code);
    CHECK(e.status >= 400);
    CHECK(e.status <= 599);
    CHECK(!e.message.empty());
    CHECK(e.message.size() <= 200);
  }
}

TEST_CASE("error catalog: each identifier is its code with '.' as '_'", "[error_catalog]") {
  struct Named {
    std::string_view id;
    std::string_view code;
  };
  static constexpr Named kNamed[] = {
#define EC_ERROR(id, code, status, message) {#id, code},
#include "core/error_catalog.def"
#undef EC_ERROR
  };
  REQUIRE(std::size(kNamed) == error_catalog().size());
  for (const Named& n : kNamed) {
    std::string expected(n.code);
    for (char& c : expected) c = c == '.' ? '_' : c;
    CHECK(n.id == expected);
  }
}

TEST_CASE("error catalog: api_error takes code, status and message from it", "[error_catalog]") {
  ApiError a = api_error(Err::chat_not_found);
  CHECK(a.status == 404);
  CHECK(a.code == "chat.not_found");
  CHECK(a.message == error_info(Err::chat_not_found).message);
  CHECK(a.fields.is_null());
  CHECK(a.is(Err::chat_not_found));
  CHECK(!a.is(Err::documents_not_found));

  ApiError b = api_error(Err::documents_source_missing, "The document's file was deleted");
  CHECK(b.status == 409);
  CHECK(b.code == "documents.source_missing");
  CHECK(b.message == "The document's file was deleted");
}

// README.md has one complete table of every code (### Error codes), generated from the catalog:
// it must list exactly the catalog's rows. Elsewhere it names codes in prose and in the route
// tables, often with a status ("409 `documents.busy`"): each such status must be the catalog's, and
// every code-shaped name in a domain the catalog uses must be a catalog code.
TEST_CASE("error catalog: README's error table is the catalog", "[error_catalog]") {
  const std::string readme = read_readme();
  const std::regex row("^\\| `([a-z0-9_]+\\.[a-z0-9_]+)` \\| ([0-9]{3}) \\| (.*) \\|$");
  std::map<std::string, std::string> rows;  // code -> the README line
  std::istringstream lines(readme);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_match(line, m, row)) rows[m[1]] = line;
  }
  for (const ErrorInfo& e : error_catalog()) {
    INFO("README.md needs (or has a different) row:\n" << table_row(e));
    auto it = rows.find(std::string(e.code));
    REQUIRE(it != rows.end());
    CHECK(it->second == table_row(e));
  }
  for (const auto& [code, line] : rows) {
    INFO("README.md lists a code the catalog lacks: " << line);
    CHECK(find_code(code) != nullptr);
  }
}

TEST_CASE("error catalog: README names codes with their catalog status", "[error_catalog]") {
  const std::string readme = read_readme();
  // A status, then one backticked code or a parenthesised list of them:
  //   413 `files.too_large`      422 (`extract.unsupported_format`, `extract.encrypted`)
  const std::regex with_status(
      "\\b([1-5][0-9]{2})\\s+(`[a-z0-9_]+\\.[a-z0-9_]+`|\\((?:`[a-z0-9_]+\\.[a-z0-9_]+`,?\\s*)+\\)"
      ")");
  const std::regex code_in("`([a-z0-9_]+\\.[a-z0-9_]+)`");
  size_t checked = 0;
  for (std::sregex_iterator it(readme.begin(), readme.end(), with_status), end; it != end; ++it) {
    const int status = std::stoi((*it)[1]);
    const std::string names = (*it)[2];
    for (std::sregex_iterator c(names.begin(), names.end(), code_in); c != end; ++c) {
      const std::string code = (*c)[1];
      INFO("README.md: " << it->str());
      const ErrorInfo* e = find_code(code);
      REQUIRE(e != nullptr);
      CHECK(e->status == status);
      ++checked;
    }
  }
  CHECK(checked > 20);

  // Names README writes in backticks that look like codes of a catalog domain but are not errors.
  const std::set<std::string> not_errors = {
      "chat.completion",  // OpenAI's object type
      "crypto.verify",    // effect ops
      "stream.open",
      "stream.write",
  };
  std::set<std::string> domains;
  for (const ErrorInfo& e : error_catalog()) {
    domains.insert(std::string(e.code.substr(0, e.code.find('.'))));
  }
  for (std::sregex_iterator c(readme.begin(), readme.end(), code_in), end; c != end; ++c) {
    const std::string code = (*c)[1];
    if (!domains.count(code.substr(0, code.find('.'))) || not_errors.count(code)) continue;
    INFO("README.md names `" << code << "`, which is not in the error catalog");
    CHECK(find_code(code) != nullptr);
  }
}

// The JS shim answers a few errors itself (a trap, a Response the platform refused, an object gone
// between the core's check and the read): it cannot read the catalog then, so it states code and
// status, and they must be the catalog's.
TEST_CASE("error catalog: the JS shim's own errors are catalog entries", "[error_catalog]") {
  // shimError(out, 404, "files.not_found", …), and a body built by hand (worker.js's trap answer):
  //   error: { code: "runtime.trap", … } … status: 500
  const std::regex shim_error("shimError\\(\\w+, ([0-9]{3}), \"([^\"]+)\"");
  const std::regex body_code("error: \\{ code: \"([^\"]+)\"[\\s\\S]*?status: ([0-9]{3})");
  size_t checked = 0;
  for (const auto& f :
       std::filesystem::directory_iterator(std::string(EDGECHAT_SOURCE_DIR) + "/js-shim")) {
    if (f.path().extension() != ".js") continue;
    const std::string js = read_file(f.path());
    for (std::sregex_iterator m(js.begin(), js.end(), shim_error), end; m != end; ++m) {
      INFO(f.path().filename().string() << ": " << m->str());
      const ErrorInfo* e = find_code((*m)[2].str());
      REQUIRE(e != nullptr);
      CHECK(e->status == std::stoi((*m)[1]));
      ++checked;
    }
    for (std::sregex_iterator m(js.begin(), js.end(), body_code), end; m != end; ++m) {
      INFO(f.path().filename().string() << ": " << m->str());
      const ErrorInfo* e = find_code((*m)[1].str());
      REQUIRE(e != nullptr);
      CHECK(e->status == std::stoi((*m)[2]));
      ++checked;
    }
  }
  CHECK(checked >= 4);
}
