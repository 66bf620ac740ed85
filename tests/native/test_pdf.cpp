// PDF extraction: the pure PdfExtractor driven with zlib, and extract_pdf() driven through a
// Ctx whose "zlib.inflate" effects are answered here, over fixtures made by ghostscript and by
// tests/fixtures/pdf/make_handmade.py (see the README there).
#include "core/context.hpp"
#include "crypto/encoding.hpp"
#include "extract/pdf/extract.hpp"
#include "extract/pdf/filters.hpp"

#include "support/zlib_inflate.hpp"

#include "support/fixtures.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace ec;

namespace {

std::string fixture(const std::string& name) { return ec::testing::read_fixture("pdf/" + name); }

struct Run {
  Result<ExtractedText> result = ApiError{};
  int batches = 0;
  size_t largest_max = 0;
};

// Drives the state machine directly; `fail_inflate` makes every inflate fail.
Run extract_sync(std::string bytes, bool fail_inflate = false) {
  Run run;
  PdfExtractor ex;
  ex.feed(std::move(bytes));
  for (int guard = 0; !ex.done() && guard < 1000; ++guard) {
    std::vector<PdfInflateRequest> batch = ex.pending_inflates();
    if (batch.empty()) break;
    ++run.batches;
    std::vector<std::pair<uint32_t, std::optional<std::string>>> answers;
    for (const PdfInflateRequest& r : batch) {
      run.largest_max = std::max(run.largest_max, r.max);
      answers.emplace_back(
          r.id, fail_inflate ? std::nullopt : ec::testing::zlib_inflate(r.data, r.max).bytes);
    }
    for (auto& [id, data] : answers) ex.provide(id, std::move(data));
  }
  REQUIRE(ex.done());
  run.result = ex.take_result();
  return run;
}

// Drives extract_pdf() through a real Ctx mailbox, answering effects as the shim would.
Run extract_via_ctx(std::string bytes) {
  Env env;
  Ctx ctx(1, Envelope{}, env);
  Task<Result<ExtractedText>> task = extract_pdf(ctx, std::move(bytes));
  Run run;
  coro::coroutine_handle<> h = task.handle();
  for (int guard = 0; guard < 1000; ++guard) {
    h.resume();
    if (task.done()) break;
    REQUIRE(ctx.has_pending());
    ++run.batches;
    std::vector<EffectResult> results;
    for (const Effect& e : ctx.take_pending()) {
      REQUIRE(e.op == "zlib.inflate");
      json args = json::parse(e.payload);
      auto data = base64url_decode(args.at("data").get<std::string>());
      REQUIRE(data.has_value());
      size_t max = args.at("max").get<size_t>();
      run.largest_max = std::max(run.largest_max, max);
      auto out = ec::testing::zlib_inflate(*data, max).bytes;
      results.push_back(out ? EffectResult{EffectError::kNone, *out, ""}
                            : EffectResult{EffectError::kInternal, "", "corrupt"});
    }
    h = ctx.deliver(std::move(results));
    REQUIRE(h);
  }
  REQUIRE(task.done());
  run.result = task.take();
  return run;
}

// Asserts each needle occurs, in this order, and returns the text for further checks.
void require_in_order(const std::string& text, const std::vector<std::string>& needles) {
  size_t at = 0;
  for (const std::string& n : needles) {
    INFO("looking for: " << n << "\nin:\n" << text);
    size_t found = text.find(n, at);
    REQUIRE(found != std::string::npos);
    at = found + n.size();
  }
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

}  // namespace

TEST_CASE("pdf: ghostscript multi-page document keeps sentences, order and page breaks") {
  Run run = extract_sync(fixture("multipage.pdf"));
  REQUIRE(run.result.ok());
  const ExtractedText& t = run.result.value();
  CHECK(t.format == "pdf");
  require_in_order(t.text, {"WHY THE CORE IS SANS-IO",
                            "The first page explains that the core never performs input or output",
                            "waits for the host.", "Filler paragraph number 1 keeps",
                            "Filler paragraph number 45 keeps", "RETRIEVAL ON THE LAST PAGE",
                            "retrieval ranks chunks by lexical similarity."});
  // Three pages, each starting with the man page header after a blank line (but the first).
  CHECK(count(t.text, "EDGECHAT(7)") == 6);
  CHECK(count(t.text, "\n\nEDGECHAT(7)") == 2);
  CHECK(t.text.find("\xEF\xAC\x81") == std::string::npos);  // the "fi" ligature is spelled out
  CHECK(valid_utf8(t.text));
  bool found_heading = false;
  for (const Heading& h : t.headings) {
    UNSCOPED_INFO("heading " << h.level << ": " << h.title);
    if (h.title == "RETRIEVAL ON THE LAST PAGE") {
      found_heading = true;
      CHECK(t.text.compare(h.offset, h.title.size(), h.title) == 0);
    }
  }
  CHECK(found_heading);
  CHECK(t.headings.size() == 2);  // the two bold section titles, not the body or the header
  CHECK(run.batches >= 1);
  CHECK(run.largest_max <= PdfExtractor::kMaxInflate);
}

TEST_CASE("pdf: non-ASCII text from a ghostscript font with /Differences decodes right") {
  Run run = extract_sync(fixture("unicode.pdf"));
  REQUIRE(run.result.ok());
  const std::string& text = run.result.value().text;
  require_in_order(text, {"CAF\xC3\x89 NOTES",
                          "The caf\xC3\xA9 serves cr\xC3\xA8me br\xC3\xBBl\xC3\xA9"
                          "e to J\xC3\xBCrgen \xE2\x80\x94 \xE2\x80\x9Cquoted words\xE2\x80\x9D",
                          "Stra\xC3\x9F"
                          "e and na\xC3\xAFve fa\xC3\xA7"
                          "ade"});
  CHECK(valid_utf8(text));
}

TEST_CASE("pdf: hand-made uncompressed file covers the text operators") {
  Run run = extract_sync(fixture("minimal.pdf"));
  REQUIRE(run.result.ok());
  const ExtractedText& t = run.result.value();
  require_in_order(t.text,
                   {"Hand Made Heading\n", "The minimal fixture keeps every object readable.\n",
                    "Kerned words"
                    "stay apart.\n",
                    "Second line via the quote operator.\n", "Positioned by Tm.",
                    "\n\nPage two arrives through ASCIIHexDecode."});
  REQUIRE(t.headings.size() == 1);
  CHECK(t.headings[0].title == "Hand Made Heading");
  CHECK(t.headings[0].level == 1);
  CHECK(t.headings[0].offset == 0);
  CHECK(run.batches == 0);  // nothing compressed, so no effect at all
}

TEST_CASE("pdf: object streams, xref stream predictors, ToUnicode CMaps and forms") {
  for (bool via_ctx : {false, true}) {
    Run run =
        via_ctx ? extract_via_ctx(fixture("objstm.pdf")) : extract_sync(fixture("objstm.pdf"));
    REQUIRE(run.result.ok());
    require_in_order(run.result.value().text, {"Compressed Objects Say Caf\xC3\xA9\n",
                                               "\xE2\x80\x9C"
                                               "FormText\xE2\x80\x9D \xE2\x80\x94 Done"});
    // Structure (xref + object stream), then page content and CMap, then the form inside it.
    CHECK(run.batches == 3);
  }
}

TEST_CASE("pdf: extract_pdf through effects matches the state machine") {
  Run direct = extract_sync(fixture("multipage.pdf"));
  Run effects = extract_via_ctx(fixture("multipage.pdf"));
  REQUIRE(direct.result.ok());
  REQUIRE(effects.result.ok());
  CHECK(direct.result.value().text == effects.result.value().text);
  CHECK(effects.batches == direct.batches);
  CHECK(effects.largest_max <= PdfExtractor::kMaxInflate);
}

TEST_CASE("pdf: a broken xref is recovered by scanning for objects") {
  Run good = extract_sync(fixture("minimal.pdf"));
  Run bad = extract_sync(fixture("bad_xref.pdf"));
  REQUIRE(bad.result.ok());
  CHECK(bad.result.value().text == good.result.value().text);
}

TEST_CASE("pdf: a truncated file yields the pages that survived") {
  Run run = extract_sync(fixture("truncated.pdf"));
  REQUIRE(run.result.ok());
  CHECK(run.result.value().text.find("Positioned by Tm.") != std::string::npos);
  CHECK(run.result.value().text.find("Page two") == std::string::npos);
}

TEST_CASE("pdf: unreadable input is a 422 with a stable code") {
  struct Case {
    std::string bytes;
    std::string code;
  };
  std::vector<Case> cases = {
      {fixture("encrypted.pdf"), "extract.encrypted"},
      {fixture("scanned.pdf"), "extract.no_text"},
      {"", "extract.malformed"},
      {"hello, this is plain text and not a PDF at all", "extract.malformed"},
      {"%PDF-1.7\n% nothing else", "extract.malformed"},
      {fixture("multipage.pdf").substr(100), "extract.malformed"},
  };
  for (const Case& c : cases) {
    Run run = extract_sync(c.bytes);
    INFO("expecting " << c.code);
    REQUIRE_FALSE(run.result.ok());
    CHECK(run.result.error().status == 422);
    CHECK(run.result.error().code == c.code);
  }
  Run enc = extract_via_ctx(fixture("encrypted.pdf"));
  REQUIRE_FALSE(enc.result.ok());
  CHECK(enc.result.error().message == "encrypted PDFs are not supported");
}

TEST_CASE("pdf: failed inflates skip their streams instead of failing the request") {
  Run run = extract_sync(fixture("multipage.pdf"), /*fail_inflate=*/true);
  REQUIRE_FALSE(run.result.ok());
  CHECK(run.result.error().code == "extract.no_text");
  CHECK(run.batches >= 1);
}

TEST_CASE("pdf: ASCIIHex, ASCII85 and PNG predictors") {
  CHECK(pdf_ascii_hex_decode("48 65 6c6C 6F>") == std::optional<std::string>("Hello"));
  CHECK(pdf_ascii_hex_decode("4>") == std::optional<std::string>("@"));
  CHECK_FALSE(pdf_ascii_hex_decode("4G").has_value());
  CHECK(pdf_ascii85_decode("87cURD]j7BEbo7~>") == std::optional<std::string>("Hello world"));
  CHECK(pdf_ascii85_decode("z~>") == std::optional<std::string>(std::string(4, '\0')));
  CHECK_FALSE(pdf_ascii85_decode("v~>").has_value());
  // Two rows of 2 columns: Sub then Up.
  std::string rows = std::string("\x01\x05\x03", 3) + std::string("\x02\x01\x01", 3);
  CHECK(pdf_undo_predictor(rows, 12, 1, 8, 2) == std::optional<std::string>("\x05\x08\x06\x09"));
  CHECK_FALSE(pdf_undo_predictor(std::string("\x07\x00", 2), 12, 1, 8, 1).has_value());
}

TEST_CASE("pdf: truncations and corruptions of every fixture never crash or hang") {
  for (const char* name : {"multipage.pdf", "unicode.pdf", "minimal.pdf", "objstm.pdf",
                           "bad_xref.pdf", "encrypted.pdf", "scanned.pdf"}) {
    std::string bytes = fixture(name);
    size_t ok = 0, failed = 0;
    for (size_t cut = 0; cut < bytes.size(); cut += 97) {
      Run run = extract_sync(bytes.substr(0, cut));
      if (run.result.ok()) {
        ++ok;
        CHECK(valid_utf8(run.result.value().text));
      } else {
        ++failed;
        CHECK(run.result.error().status == 422);
      }
      std::string flipped = bytes;
      flipped[cut] = static_cast<char>(flipped[cut] ^ 0x5A);
      Run corrupt = extract_sync(flipped);
      CHECK((corrupt.result.ok() || corrupt.result.error().status == 422));
    }
    INFO(name);
    // Late cuts lose only the trailer, which the recovery scan does without.
    if (std::string(name) != "scanned.pdf") CHECK(ok > 0);
    CHECK(failed > 0);  // the first cuts lose the header
  }
}

TEST_CASE("pdf: hostile structures are bounded") {
  auto pdf = [](const std::string& objects) {
    return "%PDF-1.4\n" + objects + "trailer\n<< /Root 1 0 R >>\n%%EOF\n";
  };
  std::string content = "BT /F1 12 Tf (Still here) Tj ET";
  std::string page =
      "3 0 obj\n<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font "
      "<< /F1 5 0 R >> >> >>\nendobj\n5 0 obj\n<< /Type /Font /Subtype /Type1 "
      "/BaseFont /Helvetica >>\nendobj\n";
  // A /Kids cycle, a stream whose /Length is itself, and a huge /N object stream.
  std::string cyclic =
      pdf("1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
          "2 0 obj\n<< /Type /Pages /Kids [2 0 R 3 0 R 2 0 R] >>\nendobj\n" +
          page + "4 0 obj\n<< /Length 4 0 R >>\nstream\n" + content +
          "\nendstream\nendobj\n6 0 obj\n<< /Type /ObjStm /N 1000000000 "
          "/First 0 >>\nstream\nendstream\nendobj\n");
  Run run = extract_sync(cyclic);
  REQUIRE(run.result.ok());
  CHECK(run.result.value().text == "Still here");
  // Nesting far deeper than any real file: the parser gives up instead of recursing.
  std::string deep = pdf("1 0 obj\n" + std::string(200000, '[') + "\nendobj\n");
  Run deep_run = extract_sync(deep);
  REQUIRE_FALSE(deep_run.result.ok());
  CHECK(deep_run.result.error().code == "extract.malformed");
  // A content stream of a million operands and unknown operators.
  std::string noisy;
  for (int i = 0; i < 100000; ++i) noisy += "1 2 3 [4 5] xx ";
  std::string flood =
      pdf("1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
          "2 0 obj\n<< /Type /Pages /Kids [3 0 R] >>\nendobj\n" +
          page + "4 0 obj\n<< >>\nstream\n" + noisy + content + "\nendstream\nendobj\n");
  Run flood_run = extract_sync(flood);
  REQUIRE(flood_run.result.ok());
  CHECK(flood_run.result.value().text == "Still here");
}
