// Text extraction: exact output for realistic fixtures, the encoding and size rules, and hostile
// inputs that must come back quickly instead of looping, recursing or crashing.
#include "extract/text.hpp"

#include "support/fixtures.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

using namespace ec;

namespace {

std::string fixture(const std::string& name) {
  return ec::testing::read_fixture("extract/" + name);
}

ExtractedText extract_ok(std::string_view bytes, DocFormat fmt) {
  Result<ExtractedText> r = extract_text(bytes, fmt);
  INFO((r.ok() ? std::string() : r.error().code));
  REQUIRE(r.ok());
  return std::move(r.value());
}

std::string error_code(std::string_view bytes, DocFormat fmt) {
  Result<ExtractedText> r = extract_text(bytes, fmt);
  return r.ok() ? std::string("ok") : r.error().code;
}

// The invariants every extractor promises, checked on every output below.
void check_invariants(const ExtractedText& t) {
  CHECK(t.text.find('\r') == std::string::npos);
  CHECK(t.text.find(" \n") == std::string::npos);
  CHECK(t.text.find("\n\n\n") == std::string::npos);
  CHECK_FALSE((!t.text.empty() && (t.text.back() == '\n' || t.text.front() == '\n')));
  size_t last = 0;
  for (const Heading& h : t.headings) {
    INFO(h.title);
    REQUIRE(h.offset < t.text.size());
    CHECK(t.text.compare(h.offset, h.title.size(), h.title) == 0);
    CHECK((h.offset == 0 || t.text[h.offset - 1] == '\n'));
    CHECK(h.offset >= last);
    last = h.offset;
  }
}

template <typename F>
double seconds(F&& f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("detect_format: content type, then extension, then sniffing") {
  CHECK(detect_format("text/HTML; charset=utf-8", "x.json", "{}") == DocFormat::kHtml);
  CHECK(detect_format("application/json", "", "") == DocFormat::kJson);
  CHECK(detect_format("application/ld+json", "", "") == DocFormat::kJson);
  CHECK(detect_format("text/markdown", "", "") == DocFormat::kMarkdown);
  CHECK(detect_format("text/csv", "", "") == DocFormat::kCsv);
  CHECK(detect_format("Application/PDF", "", "") == DocFormat::kPdf);
  CHECK(detect_format("text/plain", "a.md", "") == DocFormat::kText);
  CHECK(detect_format("application/octet-stream", "docs/READ.ME.Markdown", "") ==
        DocFormat::kMarkdown);
  CHECK(detect_format("", "page.HTM", "") == DocFormat::kHtml);
  CHECK(detect_format("", "data.csv", "") == DocFormat::kCsv);
  CHECK(detect_format("", "notes.txt", "\x01\x02") == DocFormat::kText);
  CHECK(detect_format("", "paper.pdf", "") == DocFormat::kPdf);
  CHECK(detect_format("", "upload", "%PDF-1.7\n...") == DocFormat::kPdf);
  CHECK(detect_format("", "upload", "\xEF\xBB\xBF  <!DOCTYPE html><p>x") == DocFormat::kHtml);
  CHECK(detect_format("", "upload", "<HTML><body>x") == DocFormat::kHtml);
  CHECK(detect_format("", "upload", " [1, {\"a\": 2}]") == DocFormat::kJson);
  CHECK(detect_format("", "upload", "{not json") == DocFormat::kText);
  CHECK(detect_format("", "upload", "just some words") == DocFormat::kText);
  CHECK(detect_format("", "image.png", std::string("\x89PNG\r\n\x1a\n\0\0", 10)) ==
        DocFormat::kUnsupported);
  CHECK(detect_format("", "", "") == DocFormat::kUnsupported);
}

TEST_CASE("extract_text refuses PDF, unknown formats, oversized and binary input") {
  CHECK(error_code("%PDF-1.4", DocFormat::kPdf) == "extract.unsupported_format");
  CHECK(error_code("x", DocFormat::kUnsupported) == "extract.unsupported_format");
  Result<ExtractedText> pdf = extract_text("%PDF-1.4", DocFormat::kPdf);
  REQUIRE_FALSE(pdf.ok());
  CHECK(pdf.error().status == 422);

  std::string big(kMaxExtractBytes + 1, 'a');
  Result<ExtractedText> too_big = extract_text(big, DocFormat::kText);
  REQUIRE_FALSE(too_big.ok());
  CHECK(too_big.error().code == "extract.too_large");
  CHECK(too_big.error().status == 413);
  CHECK(error_code(std::string_view(big).substr(0, 1 << 20), DocFormat::kText) == "ok");

  std::string binary(4096, 'a');
  for (size_t i = 0; i < 42; ++i) binary[i * 97] = '\0';  // 42 NULs > 1% of 4096
  Result<ExtractedText> bin = extract_text(binary, DocFormat::kText);
  REQUIRE_FALSE(bin.ok());
  CHECK(bin.error().code == "extract.binary");
  CHECK(bin.error().status == 422);
  CHECK(error_code(binary, DocFormat::kHtml) == "extract.binary");
  std::string few_nuls(4096, 'a');
  for (size_t i = 0; i < 40; ++i) few_nuls[i * 97] = '\0';  // 40 NULs ≤ 1%: text, NULs dropped
  ExtractedText t = extract_ok(few_nuls, DocFormat::kText);
  CHECK(t.text == std::string(4096 - 40, 'a'));
}

TEST_CASE("plain text: CRLF/CR normalised, paragraphs separated by one blank line") {
  ExtractedText t = extract_ok(fixture("crlf.txt"), DocFormat::kText);
  check_invariants(t);
  CHECK(t.format == "text");
  CHECK(t.text ==
        "First line of paragraph one.\nSecond line.\n\nParagraph two\nwith CR.\n\n"
        "\tIndented tab line");
  CHECK(t.headings.empty());
}

TEST_CASE("plain text: UTF-16LE with BOM is decoded, UTF-8 BOM dropped, bad bytes replaced") {
  ExtractedText u16 = extract_ok(fixture("utf16le.txt"), DocFormat::kText);
  CHECK(u16.text == "Gr\u00FC\u00DFe aus K\u00F6ln \u2014 \U0001D11E music\nZweite Zeile");

  std::string be = std::string("\xFE\xFF\x00H\x00i\xD8\x34\xDD\x1E\xDC\x00", 12);
  CHECK(extract_ok(be, DocFormat::kText).text == "Hi\U0001D11E\uFFFD");  // lone low surrogate

  ExtractedText bad = extract_ok(fixture("invalid_utf8.txt"), DocFormat::kText);
  const std::string r = "\uFFFD";
  CHECK(bad.text == "ok " + r + r + " bad " + r + "( seq " + r + r + " cut " + r + r + r +
                        " surrogate " + r + r + " overlong end");
}

TEST_CASE("markdown: README keeps readable text, headings with offsets, drops markup") {
  ExtractedText t = extract_ok(fixture("readme.md"), DocFormat::kMarkdown);
  check_invariants(t);
  CHECK(t.format == "markdown");
  CHECK(t.text ==
        "edgechat\n\n"
        "A chat backend for Cloudflare Workers with snake_case names kept\n"
        "and a project site plus the logo.\n\n"
        "Getting started\n\n"
        "1. Install the toolchain\n"
        "2. Run npm start\n\n"
        "- uses D1 and R2\n"
        "- nested_list_item stays\n\n"
        "npm run build   # *not* emphasis\n"
        "echo [link](x)\n\n"
        "Setext second level\n\n"
        "Math like 2 * 3 * 4 stays; a > b too.\n\n"
        "Quoted text here.\n\n"
        "| Option | Default |\n"
        "| port   | 8787    |\n\n"
        "See https://example.com/x and *literal stars*.");
  REQUIRE(t.headings.size() == 3);
  CHECK(t.headings[0].level == 1);
  CHECK(t.headings[0].title == "edgechat");
  CHECK(t.headings[0].offset == 0);
  CHECK(t.headings[1].level == 2);
  CHECK(t.headings[1].title == "Getting started");
  CHECK(t.text.substr(t.headings[1].offset).starts_with("Getting started\n\n1. Install"));
  CHECK(t.headings[2].level == 2);
  CHECK(t.text.substr(t.headings[2].offset).starts_with("Setext second level\n\nMath"));
  CHECK(t.text.find("HIDDEN") == std::string::npos);
}

TEST_CASE("markdown: inline markup edge cases") {
  auto md = [](std::string_view s) { return extract_ok(s, DocFormat::kMarkdown).text; };
  CHECK(md("***both*** and _one_ and __two__") == "both and one and two");
  CHECK(md("a_b_c and *unclosed") == "a_b_c and *unclosed");
  CHECK(md("``code with ` tick`` x") == "code with ` tick x");
  CHECK(md("[outer [inner](u1)](u2) [not a link] ![](img.png)") == "outer inner [not a link]");
  CHECK(md("[ref link][r] <b>bold</b> <span class=\"x\">s</span>") == "ref link bold s");
  CHECK(md("### Title with `code` ###\ntext") == "Title with code\n\ntext");
  CHECK(md("#hashtag is not a heading") == "#hashtag is not a heading");
  CHECK(md("Para\n\n    indented code *x*\n\nafter") == "Para\n\nindented code *x*\n\nafter");
  CHECK(md("~~~\nunclosed fence\n\n\n\nkeeps going") == "unclosed fence\n\nkeeps going");
}

TEST_CASE("html: article text without chrome, scripts, comments; entities; headings") {
  ExtractedText t = extract_ok(fixture("article.html"), DocFormat::kHtml);
  check_invariants(t);
  CHECK(t.format == "html");
  CHECK(t.text ==
        "Edge Caching Explained\n\n"
        "By Ana & Bo\n\n"
        "Caches at the edge cut latency \u2013 often by 80%. Caf\u00E9 owners love them\u2026\n\n"
        "How it works\n\n"
        "A request hits the nearest PoP.\n"
        "If the object is fresh, it is served immediately.\n\n"
        "- Lower latency\n"
        "- Less origin load \u2014 and \u00A9 2024\n\n"
        "let x = 1;\n"
        "  if (x < 2) {\n"
        "    go();\n"
        "  }\n\n"
        "Tier | TTL\n"
        "Edge | 60 s");
  REQUIRE(t.headings.size() == 2);
  CHECK(t.headings[0].level == 1);
  CHECK(t.headings[0].title == "Edge Caching Explained");  // <title> unused: there is an <h1>
  CHECK(t.headings[0].offset == 0);
  CHECK(t.headings[1].level == 2);
  CHECK(t.text.substr(t.headings[1].offset).starts_with("How it works\n\nA request"));
  for (const char* dropped :
       {"SECRET_SCRIPT", "font-family", "SITE_HEADER", "NAV_ABOUT", "COMMENT_TEXT", "NOSCRIPT_TEXT",
        "SVG_", "TEMPLATE_TEXT", "FOOTER_TEXT", "Example Blog"}) {
    INFO(dropped);
    CHECK(t.text.find(dropped) == std::string::npos);
  }
}

TEST_CASE("html: <title> becomes the level-1 heading only without an <h1>") {
  ExtractedText t = extract_ok(
      "<html><head><TITLE>Docs &amp; Guides</TITLE></head><body><h2>Part</h2>body &lt;x&gt;"
      " &unknown; AT&T &#0; &#xD800;</body>",
      DocFormat::kHtml);
  check_invariants(t);
  CHECK(t.text == "Docs & Guides\n\nPart\n\nbody <x> &unknown; AT&T \uFFFD \uFFFD");
  REQUIRE(t.headings.size() == 2);
  CHECK(t.headings[0].title == "Docs & Guides");
  CHECK(t.headings[0].level == 1);
  CHECK(t.headings[1].title == "Part");
  CHECK(t.headings[1].offset == 15);

  ExtractedText stray = extract_ok("a < b and 3<4 <3 </ x> c", DocFormat::kHtml);
  CHECK(stray.text == "a < b and 3<4 <3 </ x> c");
}

TEST_CASE("json: one line per leaf, objects under top-level keys become headings") {
  ExtractedText t = extract_ok(fixture("config.json"), DocFormat::kJson);
  check_invariants(t);
  CHECK(t.format == "json");
  CHECK(t.text ==
        "empty: {}\n"
        "features[0]: rag\n"
        "features[1]: chat stream\n\n"
        "limits\n\n"
        "limits.rate: null\n"
        "limits.upload.max_mb: 50\n"
        "limits.upload.types[0]: pdf\n"
        "limits.upload.types[1]: md\n\n"
        "motto: caf\u00E9 \"quoted\"\n"
        "name: edgechat\n\n"
        "server\n\n"
        "server.host: 0.0.0.0\n"
        "server.port: 8787\n"
        "server.tls: false\n\n"
        "version: 3");
  REQUIRE(t.headings.size() == 2);
  CHECK(t.headings[0].title == "limits");
  CHECK(t.headings[1].title == "server");
  CHECK(t.text.substr(t.headings[1].offset).starts_with("server\n\nserver.host"));

  CHECK(extract_ok("[1, {\"a\": [true]}, \"x\"]", DocFormat::kJson).text ==
        "[0]: 1\n[1].a[0]: true\n[2]: x");
  CHECK(extract_ok("\"just a string\"", DocFormat::kJson).text == "just a string");
  Result<ExtractedText> bad = extract_text("{\"a\": }", DocFormat::kJson);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == "extract.malformed");
  CHECK(bad.error().status == 422);
}

TEST_CASE("csv: quotes, embedded newlines, ';' delimiter, ragged rows") {
  ExtractedText t = extract_ok(fixture("contacts.csv"), DocFormat::kCsv);
  check_invariants(t);
  CHECK(t.format == "csv");
  CHECK(t.text ==
        "Name: Smith; John\nCity: Berlin\nNotes: Said \"hi\" then left\nScore: 7\n\n"
        "Name: Ana\nNotes: ok\n\n"
        "Name: Bo\nCity: Oslo\nNotes: x\nScore: 9\ncolumn 5: EXTRA\n\n"
        "Name: Short\nCity: Rome");

  CHECK(extract_ok("a\tb\n1\t2\n", DocFormat::kCsv).text == "a: 1\nb: 2");
  CHECK(extract_ok("x,,y\n1,2,3", DocFormat::kCsv).text == "x: 1\ncolumn 2: 2\ny: 3");
  CHECK(extract_ok("only,header\n", DocFormat::kCsv).text == "only, header");
  // Malformed quoting degrades to text.
  CHECK(extract_ok("a,b\nx\"y,\"q\"tail\n\"open,never closed\n", DocFormat::kCsv).text ==
        "a: x\"y\nb: qtail\n\na: open,never closed");
}

TEST_CASE("hostile inputs return quickly without crashing") {
  std::string nested;
  for (int i = 0; i < 100000; ++i) nested += "<div><span><nav>";
  nested += "deep";
  std::string nested_md(100000, '[');
  nested_md += "x](u)";
  std::string deep_json(100000, '[');
  std::string brackets(10 * 1024 * 1024, '<');
  double elapsed = seconds([&] {
    CHECK(extract_ok(nested, DocFormat::kHtml).text.empty());  // inside an unclosed <nav>
    std::string divs;
    for (int i = 0; i < 100000; ++i) divs += "<div><b>";
    CHECK(extract_ok(divs + "deep", DocFormat::kHtml).text == "deep");
    CHECK(extract_ok("a<!-- never closed <p>hidden", DocFormat::kHtml).text == "a");
    CHECK(extract_ok("a<script>var x = '</scr' + 'ipt'; hidden", DocFormat::kHtml).text == "a");
    CHECK(extract_ok("a<p title=\"unterminated>b", DocFormat::kHtml).text == "a");
    ExtractedText lt = extract_ok(brackets, DocFormat::kHtml);
    CHECK(lt.text.size() == brackets.size());
    std::string md_lt(1 << 20, '<');
    CHECK(extract_ok(md_lt, DocFormat::kMarkdown).text == md_lt);
    CHECK(extract_ok(md_lt + "a>", DocFormat::kMarkdown).text == md_lt.substr(1));  // <a> is a tag
    CHECK(extract_ok(nested_md, DocFormat::kMarkdown).text.size() > 1000);
    CHECK(error_code(deep_json, DocFormat::kJson) == "extract.malformed");
    std::string backticks;
    for (int i = 1; i < 2000; ++i) backticks += std::string(static_cast<size_t>(i), '`') + "x";
    CHECK(extract_ok(backticks, DocFormat::kMarkdown).text.size() == backticks.size());
    std::string quotes = "a,b\n" + std::string(1 << 20, '"');
    CHECK(extract_text(quotes, DocFormat::kCsv).ok());
  });
  CHECK(elapsed < 60.0);  // ~1 s optimised, ~15 s under ASan on a busy box; quadratic is hours
}

TEST_CASE("structured output stays bounded when keys repeat on every line") {
  std::string key(100000, 'k');
  std::string arr = "{\"" + key + "\": [";
  for (int i = 0; i < 200000; ++i) arr += "1,";
  arr += "1]}";
  ExtractedText t = extract_ok(arr, DocFormat::kJson);
  CHECK(t.text.size() < 4 * arr.size() + (2u << 20));
  CHECK(t.text.starts_with(std::string(128, 'k') + "[0]: 1\n"));
}

// Ingest extracts in slices with a yield between them (bindings/sched.hpp): any slicing must give
// exactly what one call gives, for Markdown (which stops between lines) and for the rest.
TEST_CASE("sliced extraction equals extract_text for any slice size", "[extract]") {
  std::string flood;
  for (int i = 0; i < 2000; ++i) flood += "# w" + std::to_string(i) + "\n";
  const std::pair<std::string, DocFormat> inputs[] = {
      {fixture("readme.md"), DocFormat::kMarkdown},
      {flood, DocFormat::kMarkdown},
      {"Title\n=====\n\npara *one*\nstill one\n\n```\ncode\n```\n- item\n", DocFormat::kMarkdown},
      {"<h1>T</h1><p>x</p>", DocFormat::kHtml},
      {"plain\n\ntext", DocFormat::kText},
  };
  for (const auto& [bytes, fmt] : inputs) {
    const ExtractedText whole = extract_ok(bytes, fmt);
    for (size_t budget : {size_t{1}, size_t{7}, size_t{100}, size_t{4096}}) {
      INFO("budget " << budget << " format " << format_name(fmt));
      Result<std::unique_ptr<TextExtraction>> x = TextExtraction::start(bytes, fmt);
      REQUIRE(x.ok());
      size_t steps = 0;
      while (!x.value()->done()) {
        x.value()->step(budget);
        ++steps;
      }
      Result<ExtractedText> sliced = x.value()->finish();
      REQUIRE(sliced.ok());
      CHECK(sliced.value().text == whole.text);
      CHECK(sliced.value().format == whole.format);
      REQUIRE(sliced.value().headings.size() == whole.headings.size());
      for (size_t i = 0; i < whole.headings.size(); ++i) {
        CHECK(sliced.value().headings[i].offset == whole.headings[i].offset);
        CHECK(sliced.value().headings[i].title == whole.headings[i].title);
      }
      if (fmt == DocFormat::kMarkdown && bytes.size() > 10 * budget) CHECK(steps > 1);
    }
  }
  CHECK(TextExtraction::start("%PDF-1.4", DocFormat::kPdf).error().code ==
        "extract.unsupported_format");
}
