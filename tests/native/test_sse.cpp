// SseDecoder against the WHATWG event-stream rules: every split of a stream into chunks decodes to
// the same events, all three line endings (and CRLF split across chunks), comments, fields without
// a colon, ids that persist, retry, the BOM, the size bound, and encode → decode round trips.
#include <catch2/catch.hpp>

#include "providers/sse.hpp"

#include <random>
#include <string>
#include <string_view>
#include <vector>

using ec::SseDecoder;
using ec::SseEvent;

namespace {

std::vector<SseEvent> decode_all(std::string_view stream) {
  SseDecoder d;
  d.feed(stream);
  std::vector<SseEvent> out = d.take();
  d.finish();
  return out;
}

std::vector<SseEvent> decode_chunks(const std::vector<std::string_view>& chunks) {
  SseDecoder d;
  std::vector<SseEvent> out;
  for (std::string_view c : chunks) {
    d.feed(c);
    for (SseEvent& e : d.take()) out.push_back(std::move(e));
  }
  d.finish();
  return out;
}

bool same(const std::vector<SseEvent>& a, const std::vector<SseEvent>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].event != b[i].event || a[i].data != b[i].data || a[i].id != b[i].id ||
        a[i].retry != b[i].retry) {
      return false;
    }
  }
  return true;
}

// A stream exercising most rules at once, with mixed line endings.
const std::string kStream =
    "\xEF\xBB\xBF"
    ": a comment\r\n"
    "event: greet\r\n"
    "data: hello\r\n"
    "data:  two spaces\r"
    "id: 7\n"
    "\n"
    "data\r\n"
    "\r\n"
    "retry: 1500\n"
    "data: third\r\n"
    "\r"
    "event: done\n"
    "data: {\"k\":\"v\"}\n"
    "id\n"
    "\n"
    "data: ü multibyte €\r\n"
    "\r\n"
    "data: never dispatched\n";

std::vector<SseEvent> expected_events() {
  return {
      SseEvent{"greet", "hello\n two spaces", "7", std::nullopt},
      SseEvent{"message", "", "7", std::nullopt},
      SseEvent{"message", "third", "7", 1500},
      SseEvent{"done", "{\"k\":\"v\"}", "", std::nullopt},
      SseEvent{"message", "ü multibyte €", "", std::nullopt},
  };
}

}  // namespace

TEST_CASE("sse: a mixed stream decodes per the WHATWG rules", "[sse]") {
  auto got = decode_all(kStream);
  REQUIRE(same(got, expected_events()));
}

TEST_CASE("sse: every single split point gives the same events", "[sse]") {
  const std::string_view s = kStream;
  for (size_t i = 0; i <= s.size(); ++i) {
    INFO("split at " << i);
    REQUIRE(same(decode_chunks({s.substr(0, i), s.substr(i)}), expected_events()));
  }
}

TEST_CASE("sse: every pair of split points gives the same events", "[sse]") {
  const std::string_view s = kStream;
  for (size_t i = 0; i <= s.size(); ++i) {
    for (size_t j = i; j <= s.size(); ++j) {
      if (!same(decode_chunks({s.substr(0, i), s.substr(i, j - i), s.substr(j)}),
                expected_events())) {
        FAIL("splits at " << i << ", " << j);
      }
    }
  }
}

TEST_CASE("sse: byte-at-a-time and random chunkings", "[sse]") {
  const std::string_view s = kStream;
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < s.size(); ++i) bytes.push_back(s.substr(i, 1));
  REQUIRE(same(decode_chunks(bytes), expected_events()));

  std::mt19937 rng(42);
  for (int round = 0; round < 500; ++round) {
    std::vector<std::string_view> chunks;
    size_t pos = 0;
    while (pos < s.size()) {
      size_t n = std::uniform_int_distribution<size_t>(0, 9)(rng);
      n = std::min(n, s.size() - pos);
      chunks.push_back(s.substr(pos, n));
      pos += n;
    }
    REQUIRE(same(decode_chunks(chunks), expected_events()));
  }
}

TEST_CASE("sse: line endings CRLF, CR and LF", "[sse]") {
  for (std::string eol : {"\n", "\r", "\r\n"}) {
    std::string s = "data: a" + eol + "data: b" + eol + eol + "data: c" + eol + eol;
    auto got = decode_all(s);
    REQUIRE(got.size() == 2);
    CHECK(got[0].data == "a\nb");
    CHECK(got[1].data == "c");
  }
  SECTION("CR at the end of one chunk, LF at the start of the next is one line break") {
    auto got = decode_chunks({"data: a\r", "\ndata: b\r", "\n\r", "\n"});
    REQUIRE(got.size() == 1);
    CHECK(got[0].data == "a\nb");
  }
  SECTION("CR then CR is two line breaks (a blank line)") {
    auto got = decode_chunks({"data: a\r", "\r"});
    REQUIRE(got.size() == 1);
    CHECK(got[0].data == "a");
  }
  SECTION("LF LF after a CR-terminated chunk: the first LF completes CRLF, the second blanks") {
    auto got = decode_chunks({"data: a\r", "\n", "\n"});
    REQUIRE(got.size() == 1);
  }
}

TEST_CASE("sse: fields, comments and the leading space", "[sse]") {
  auto got = decode_all(
      ":comment only\n\n"
      "data:nospace\n\n"
      "data: one space\n\n"
      "data:  two\n\n"
      "data\n\n"
      "unknown: x\ndata: y\n\n"
      "event\ndata: z\n\n"
      "Data: case matters\n\n");
  REQUIRE(got.size() == 6);
  CHECK(got[0].data == "nospace");
  CHECK(got[1].data == "one space");
  CHECK(got[2].data == " two");
  CHECK(got[3].data == "");
  CHECK(got[4].data == "y");
  CHECK(got[5].event == "message");  // an empty event type means "message"
  CHECK(got[5].data == "z");
}

TEST_CASE("sse: a block without data dispatches nothing and resets the event type", "[sse]") {
  auto got = decode_all("event: a\n\ndata: x\n\n");
  REQUIRE(got.size() == 1);
  CHECK(got[0].event == "message");
}

TEST_CASE("sse: ids persist, can be cleared, and ignore NUL", "[sse]") {
  std::string s = "id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: 2\n\ndata: d\n\n";
  static constexpr char kNulId[] = "id: x\0y\ndata: e\n\n";
  s += std::string(kNulId, sizeof(kNulId) - 1);
  auto got = decode_all(s);
  REQUIRE(got.size() == 5);
  CHECK(got[0].id == "1");
  CHECK(got[1].id == "1");
  CHECK(got[2].id == "");
  CHECK(got[3].id == "2");  // an id-only block sets the id without dispatching
  CHECK(got[4].id == "2");  // an id with NUL is ignored
}

TEST_CASE("sse: retry takes ASCII digits only", "[sse]") {
  SseDecoder d;
  d.feed("retry: 3000\ndata: a\n\nretry: 12x\ndata: b\n\nretry: -5\n\nretry:\ndata: c\n\n");
  auto got = d.take();
  REQUIRE(got.size() == 3);
  CHECK(got[0].retry == 3000);
  CHECK_FALSE(got[1].retry.has_value());
  CHECK_FALSE(got[2].retry.has_value());
  CHECK(d.reconnection_ms() == 3000);
}

TEST_CASE("sse: BOM only at the very start, possibly split", "[sse]") {
  CHECK(decode_chunks({"\xEF", "\xBB", "\xBF", "data: a\n\n"}).at(0).data == "a");
  CHECK(decode_chunks({"\xEF\xBB",
                       "\xBF"
                       "data: a\n\n"})
            .at(0)
            .data == "a");
  // A BOM prefix that turns out not to be one is content (here: part of an unknown field name).
  auto got = decode_chunks({"\xEF\xBB", "x\ndata: b\n\n"});
  REQUIRE(got.size() == 1);
  CHECK(got[0].data == "b");
  // A second BOM is not stripped: the field name becomes "\xEF\xBB\xBF" "data", so it is ignored.
  CHECK(decode_all("\xEF\xBB\xBF\xEF\xBB\xBF"
                   "data: a\n\n")
            .empty());
  CHECK(decode_all("data: a\n\n\xEF\xBB\xBF"
                   "data: b\n\n")
            .size() == 1);
}

TEST_CASE("sse: finish() drops an unterminated event and resets", "[sse]") {
  SseDecoder d;
  d.feed("id: 9\ndata: a\n\ndata: partial\n");
  REQUIRE(d.take().size() == 1);
  d.finish();
  CHECK(d.take().empty());
  d.feed("data: fresh\n\n");
  auto got = d.take();
  REQUIRE(got.size() == 1);
  CHECK(got[0].data == "fresh");
  CHECK(got[0].id == "");
}

TEST_CASE("sse: an oversize event fails the decoder", "[sse]") {
  SECTION("many data lines") {
    SseDecoder d(64);
    d.feed("data: ok\n\n");
    for (int i = 0; i < 20 && !d.failed(); ++i) d.feed("data: 0123456789\n");
    CHECK(d.failed());
    d.feed("\n\ndata: later\n\n");
    auto got = d.take();
    REQUIRE(got.size() == 1);  // the event before the overflow survives
    CHECK(got[0].data == "ok");
  }
  SECTION("one endless line without a line break") {
    SseDecoder d(64);
    std::string junk(10, 'x');
    for (int i = 0; i < 10; ++i) d.feed(junk);
    CHECK(d.failed());
  }
  SECTION("exactly at the limit is fine") {
    SseDecoder d(8);
    d.feed("data:123");  // 8 bytes of line
    d.feed("\n\n");
    CHECK_FALSE(d.failed());
    CHECK(d.take().size() == 1);
  }
  SECTION("the default is 1 MiB") {
    SseDecoder d;
    std::string big(ec::kSseDefaultMaxEventBytes / 2, 'a');
    d.feed("data: " + big + "\n");
    CHECK_FALSE(d.failed());
    d.feed("data: " + big + "\n");
    CHECK(d.failed());
  }
}

TEST_CASE("sse: encoder output", "[sse]") {
  CHECK(ec::sse_event("", "hi") == "data: hi\n\n");
  CHECK(ec::sse_event("delta", "a\nb", "5") == "event: delta\nid: 5\ndata: a\ndata: b\n\n");
  CHECK(ec::sse_event("", "") == "data: \n\n");
  CHECK(ec::sse_event("ev\r\nil", "x", "i\nd") == "event: evil\nid: id\ndata: x\n\n");
  CHECK(ec::sse_event("", "a\r\nb\rc") == "data: a\ndata: b\ndata: c\n\n");
  CHECK(ec::sse_comment("ping\n") == ": ping\n\n");
}

TEST_CASE("sse: encode then decode round-trips", "[sse]") {
  struct Case {
    std::string event, data, id;
  };
  const std::vector<Case> cases = {
      {"", "plain", "1"},
      {"delta", "multi\nline\n\ndata", "2"},
      {"x", "", "3"},
      {"message", " leading space", "4"},
      {"e", ": looks like a comment", "5"},
      {"e", "data: nested", "6"},
      {"e", "trailing newline\n", "7"},
      {"u", "ünïcødé ✓", "8"},
  };
  std::string stream = ec::sse_comment("hello");
  for (const Case& c : cases) stream += ec::sse_event(c.event, c.data, c.id);
  auto got = decode_all(stream);
  REQUIRE(got.size() == cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    CHECK(got[i].event == (cases[i].event.empty() ? "message" : cases[i].event));
    CHECK(got[i].data == cases[i].data);
    CHECK(got[i].id == cases[i].id);
  }
  SECTION("CR and CRLF in data come back as LF") {
    auto ev = decode_all(ec::sse_event("", "a\r\nb\rc"));
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].data == "a\nb\nc");
  }
}
