// Object keys: uploader filenames reduced to one safe segment, and ownership checks that path
// traversal spellings cannot fool.
#include <catch2/catch.hpp>

#include "files/object_key.hpp"

#include <string>
#include <vector>

using namespace ec;

namespace {

std::string sanitized(std::string_view in) {
  Result<std::string> r = sanitize_filename(in);
  REQUIRE(r.ok());
  return r.value();
}

bool valid_utf8_prefix_cut(const std::string& s) {
  // A cut inside a sequence leaves a lead byte without its continuation bytes at the end.
  if (s.empty()) return true;
  size_t i = s.size();
  size_t cont = 0;
  while (i > 0 && (static_cast<unsigned char>(s[i - 1]) & 0xC0) == 0x80) --i, ++cont;
  if (i == 0) return false;
  const auto lead = static_cast<unsigned char>(s[i - 1]);
  const size_t need = lead < 0x80 ? 0 : lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1;
  return need == cont;
}

}  // namespace

TEST_CASE("sanitize_filename strips directories and unsafe characters", "[object_key]") {
  struct Case {
    const char* in;
    const char* want;
  };
  const Case cases[] = {
      {"report.pdf", "report.pdf"},
      {"../../etc/passwd", "passwd"},
      {"..\\..\\windows\\win.ini", "win.ini"},
      {"C:\\Users\\me\\My Report.docx", "My Report.docx"},
      {"/abs/path/a.txt", "a.txt"},
      {"dir/", "file"},
      {"..", "file"},
      {"...", "file"},
      {".", "file"},
      {"", "file"},
      {".bashrc", "bashrc"},
      {"...hidden", "hidden"},
      {" . .x", "x"},
      {"a..b", "a.b"},
      {"a....b...c", "a.b.c"},
      {"trailing. . ", "trailing"},
      {"a\x01"
       "b\x7F"
       "c.txt",
       "a_b_c.txt"},
      {"line\nbreak\r.txt", "line_break_.txt"},
      {"tab\there", "tab_here"},
      {"c1\xC2\x85"
       "x",
       "c1_x"},                                         // U+0085 NEL
      {"a<b>c:d\"e|f?g*h.txt", "a_b_c_d_e_f_g_h.txt"},  // Windows-forbidden
      {"%2e%2e%2fetc", "_2e_2e_2fetc"},                 // no decodable escapes survive
      {"gpj\xE2\x80\xAE"
       "exe.jpg",
       "gpj_exe.jpg"},  // U+202E RIGHT-TO-LEFT OVERRIDE
      {"\xEF\xBB\xBF"
       "bom.txt",
       "_bom.txt"},  // U+FEFF
      {"r\xC3\xA9sum\xC3\xA9.pdf", "r\xC3\xA9sum\xC3\xA9.pdf"},
      {"\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E.txt", "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E.txt"},
      {"\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82",
       "\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82"},
      {"\xF0\x9F\x98\x80 smile.png", "\xF0\x9F\x98\x80 smile.png"},
      {"\xD9\x85\xD9\x84\xD9\x81.pdf", "\xD9\x85\xD9\x84\xD9\x81.pdf"},  // Arabic
  };
  for (const Case& c : cases) {
    INFO("input: " << c.in);
    const std::string once = sanitized(c.in);
    CHECK(once == c.want);
    CHECK(sanitized(once) == once);  // idempotent
  }
}

TEST_CASE("sanitize_filename: NUL is replaced, not a terminator", "[object_key]") {
  CHECK(sanitized(std::string("evil.php\0.jpg", 13)) == "evil.php_.jpg");
}

TEST_CASE("sanitize_filename rejects invalid UTF-8", "[object_key]") {
  const std::vector<std::string> bad = {
      "\xFF.txt",          // never valid
      "\xC3",              // truncated
      "a\xC3(b",           // missing continuation
      "\xC0\xAF",          // overlong '/'
      "\xE0\x80\xAF",      // overlong '/'
      "\xED\xA0\x80",      // UTF-16 surrogate
      "\xF4\x90\x80\x80",  // above U+10FFFF
      "\x80",              // stray continuation
  };
  for (const std::string& in : bad) {
    Result<std::string> r = sanitize_filename(in);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().status == 400);
    CHECK(r.error().code == "files.invalid_filename");
  }
}

TEST_CASE("sanitize_filename limits length on a code point boundary", "[object_key]") {
  std::string ascii(300, 'a');
  CHECK(sanitized(ascii) == std::string(200, 'a'));

  std::string e_acute;
  for (int i = 0; i < 150; ++i) e_acute += "\xC3\xA9";  // 300 bytes, 2 per code point
  std::string cut = sanitized(e_acute);
  CHECK(cut.size() == 200);
  CHECK(valid_utf8_prefix_cut(cut));

  std::string cjk;
  for (int i = 0; i < 100; ++i) cjk += "\xE6\x97\xA5";  // 300 bytes, 3 per code point
  cut = sanitized(cjk);
  CHECK(cut.size() == 198);  // 66 code points; 200 would split the 67th
  CHECK(valid_utf8_prefix_cut(cut));

  std::string emoji;
  for (int i = 0; i < 60; ++i) emoji += "\xF0\x9F\x98\x80";  // 240 bytes, 4 per code point
  cut = sanitized(emoji);
  CHECK(cut.size() == 200);
  CHECK(valid_utf8_prefix_cut(cut));

  // The extension survives truncation.
  cut = sanitized(cjk + ".pdf");
  CHECK(cut.size() == 195 + 4);  // 196 bytes for the stem hold 65 whole code points
  CHECK(cut.substr(cut.size() - 4) == ".pdf");
  CHECK(valid_utf8_prefix_cut(cut.substr(0, cut.size() - 4)));
  CHECK(sanitized(cut) == cut);

  // A dot landing at the cut is trimmed, not left trailing.
  cut = sanitized(std::string(199, 'a') + ".b" + std::string(40, 'c'));
  CHECK(cut == std::string(199, 'a'));
}

TEST_CASE("object_key joins user, document and filename", "[object_key]") {
  CHECK(object_key("u1", "d1", "report.pdf") == "u1/d1/report.pdf");
  CHECK(key_belongs_to(object_key("u1", "d1", sanitized("../../u2/x.pdf")), "u1"));
}

TEST_CASE("key_belongs_to refuses traversal and prefix tricks", "[object_key]") {
  struct Case {
    const char* key;
    const char* user;
    bool want;
  };
  const Case cases[] = {
      {"u1/d1/report.pdf", "u1", true},
      {"u1/d1/r\xC3\xA9sum\xC3\xA9 1.pdf", "u1", true},
      {"u1/d1/sub/x.pdf", "u1", true},
      {"u1/d1/report.pdf", "u2", false},
      {"u1x/d1/report.pdf", "u1", false},  // prefix without the separator
      {"u1", "u1", false},
      {"u1/", "u1", false},
      {"u1/d1", "u1", false},  // no filename
      {"u1/d1/", "u1", false},
      {"u1/../u2/x", "u1", false},
      {"u1/d1/../../u2/d/x", "u1", false},
      {"u1/./d1/x", "u1", false},
      {"u1/d1/.hidden", "u1", false},
      {"u1//u2/x", "u1", false},
      {"u1/%2e%2e/u2/x", "u1", false},
      {"u1/%2E%2E%2Fu2/x", "u1", false},
      {"u1/d1/%252e", "u1", false},
      {"u1/..\\u2\\x", "u1", false},
      {"u1\\..\\u2/d/x", "u1", false},
      {"u1/d1\\x/y", "u1", false},
      {"/u1/d1/x", "u1", false},
      {"u1/d1/x\ny", "u1", false},
      {"u1/d1/x", "", false},  // an empty user owns nothing
      {"/d1/x", "", false},
      {"../d1/x", "..", false},      // nor does a traversal-shaped user id
      {"u1/x/d1/x", "u1/x", false},  // nor a multi-segment one
  };
  for (const Case& c : cases) {
    INFO("key: " << c.key << " user: " << c.user);
    CHECK(key_belongs_to(c.key, c.user) == c.want);
  }
  CHECK_FALSE(key_belongs_to(std::string("u1/d1/a\0b", 9), "u1"));
}
