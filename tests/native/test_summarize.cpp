// The extractive summariser: sentence splitting on small exact cases, then summaries checked for
// their guarantees (length bound, document order, valid UTF-8, determinism) and for picking the
// sentences a reader would, plus keywords and the LLM prompt.
#include "support/utf8_oracle.hpp"

#include <catch2/catch.hpp>

#include "text/summarize.hpp"

#include <chrono>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using ec::split_sentences;
using ec::summarize_extractive;
using ec::top_keywords;

using ec::testing::ref_seq_len;
using ec::testing::valid_utf8;

namespace {

std::vector<std::string> sentences(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view s : split_sentences(text)) out.emplace_back(s);
  return out;
}

const char* const kArticle =
    "Solar panels convert sunlight into electricity. The efficiency of solar panels has improved "
    "every decade. My neighbour owns a red bicycle. Modern solar panels reach an efficiency of "
    "about 22 percent. Cheap electricity from solar panels is changing energy markets. The weather "
    "was pleasant on Tuesday. Some people prefer tea.";

}  // namespace

TEST_CASE("split_sentences ends sentences at terminal punctuation and blank lines", "[summarize]") {
  CHECK(sentences("One. Two! Three? Four") ==
        std::vector<std::string>{"One.", "Two!", "Three?", "Four"});
  CHECK(sentences("Wait?! Really... yes.") ==
        std::vector<std::string>{"Wait?!", "Really...", "yes."});
  CHECK(sentences("Title\n\nBody text here\nwraps here.") ==
        std::vector<std::string>{"Title", "Body text here\nwraps here."});
  CHECK(sentences("He said \"stop.\" Then he left.") ==
        std::vector<std::string>{"He said \"stop.\"", "Then he left."});
  CHECK(sentences("Quote \xE2\x80\x9C"
                  "end.\xE2\x80\x9D Next (see above.) Last") ==
        std::vector<std::string>{"Quote \xE2\x80\x9C"
                                 "end.\xE2\x80\x9D",
                                 "Next (see above.)", "Last"});
  CHECK(sentences("a\n \t\r\nb").size() == 2);
  CHECK(sentences("").empty());
  CHECK(sentences("  \n\n  ").empty());
}

TEST_CASE("split_sentences keeps abbreviations, initials and decimals together", "[summarize]") {
  CHECK(sentences("Dr. Smith met Mr. Jones vs. Ms. Lee. They talked.") ==
        std::vector<std::string>{"Dr. Smith met Mr. Jones vs. Ms. Lee.", "They talked."});
  CHECK(sentences("Use tools, e.g. a hammer, i.e. not a spoon. Done.") ==
        std::vector<std::string>{"Use tools, e.g. a hammer, i.e. not a spoon.", "Done."});
  CHECK(sentences("Pi is 3.14159 and v2.5 shipped. J. R. R. Tolkien wrote it.") ==
        std::vector<std::string>{"Pi is 3.14159 and v2.5 shipped.", "J. R. R. Tolkien wrote it."});
  CHECK(sentences("The U.S. economy grew. Acme Inc. hired.") ==
        std::vector<std::string>{"The U.S. economy grew.", "Acme Inc. hired."});
  CHECK(sentences("We bought apples, pears, etc. Then we left.").size() == 2);
  CHECK(sentences("We bought apples, etc. and then we left.").size() == 1);
  CHECK(sentences("He works at Acme Inc. The firm grew.") ==
        std::vector<std::string>{"He works at Acme Inc.", "The firm grew."});
}

TEST_CASE("summarize_extractive picks the central sentences in document order", "[summarize]") {
  // Ties between equally central sentences go to the earlier one (the lead bonus).
  CHECK(summarize_extractive(kArticle, 2) ==
        "Solar panels convert sunlight into electricity. The efficiency of solar panels has "
        "improved every decade.");
  const std::string three = summarize_extractive(kArticle, 3);
  CHECK(three.find("bicycle") == std::string::npos);
  CHECK(three.find("tea") == std::string::npos);
  // Every sentence is quoted verbatim and in order.
  size_t pos = 0;
  for (std::string_view part : split_sentences(three)) {
    const size_t at = std::string_view(kArticle).find(part);
    REQUIRE(at != std::string_view::npos);
    CHECK(at >= pos);
    pos = at;
  }
}

TEST_CASE("summarize_extractive respects max_sentences and max_chars", "[summarize]") {
  CHECK(summarize_extractive(kArticle, 0).empty());
  CHECK(summarize_extractive(kArticle, 5, 0).empty());
  CHECK(split_sentences(summarize_extractive(kArticle, 1)).size() == 1);
  for (size_t max_chars : {1, 10, 40, 60, 100, 200, 400, 2000}) {
    const std::string s = summarize_extractive(kArticle, 5, max_chars);
    INFO(max_chars << ": " << s);
    CHECK(s.size() <= max_chars);
    CHECK_FALSE(s.empty());
  }
  // Whole-document short input is returned as is.
  CHECK(summarize_extractive("Just one short sentence here.") == "Just one short sentence here.");
}

TEST_CASE("summarize_extractive cleans whitespace and invalid UTF-8", "[summarize]") {
  CHECK(summarize_extractive("Line one\nwraps  here\tand ends.") ==
        "Line one wraps here and ends.");
  const std::string s =
      summarize_extractive("Bad \xFF\xFE bytes in a sentence. Good one here too.");
  CHECK(valid_utf8(s));
  CHECK(s.find("\xEF\xBF\xBD") != std::string::npos);
}

TEST_CASE("summarize_extractive cuts an over-long sentence on a code-point boundary",
          "[summarize]") {
  std::string text;
  for (int i = 0; i < 500; ++i) text += "é東 ";
  for (size_t max_chars = 1; max_chars < 40; ++max_chars) {
    const std::string s = summarize_extractive(text, 5, max_chars);
    INFO(max_chars);
    CHECK(s.size() <= max_chars);
    CHECK(valid_utf8(s));
  }
  const std::string s = summarize_extractive(text, 5, 100);
  CHECK(s.size() <= 100);
  CHECK(s.size() >= 50);
  CHECK(s.back() != ' ');
}

TEST_CASE("summarize_extractive handles degenerate and adversarial input", "[summarize]") {
  CHECK(summarize_extractive("").empty());
  CHECK(summarize_extractive("... !!! ???").empty());
  CHECK(summarize_extractive("Hello.") == "Hello.");  // no 3-word sentence: shorter ones qualify
  CHECK(summarize_extractive("the of and. to in a.") == "the of and. to in a.");

  std::mt19937 rng(99);
  for (int iter = 0; iter < 300; ++iter) {
    std::string text;
    const size_t len = rng() % 400;
    for (size_t i = 0; i < len; ++i) text.push_back(static_cast<char>(rng() % 256));
    const std::string s = summarize_extractive(text, 3, 150);
    CHECK(s.size() <= 150);
    CHECK(valid_utf8(s));
    CHECK(summarize_extractive(text, 3, 150) == s);
  }
}

TEST_CASE("summarize_extractive is bounded on multi-megabyte input", "[summarize]") {
  std::string text;
  while (text.size() < (4u << 20)) text += kArticle, text += "\n\n";
  const std::string tail = " Zebras dominate the final unread megabytes completely.";
  const auto t0 = std::chrono::steady_clock::now();
  const std::string s = summarize_extractive(text + tail);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  CHECK(s.size() <= 1200);
  CHECK(s.find("Zebras") == std::string::npos);  // beyond kMaxSummaryInputBytes
  CHECK(elapsed < std::chrono::seconds(20));     // generous: Debug + sanitizers
  // A single 2 MB "sentence" without punctuation.
  const std::string blob(2u << 20, 'x');
  CHECK(summarize_extractive(blob, 5, 64).size() <= 64);
}

TEST_CASE("summary_prompt embeds the text, truncated on a code-point boundary", "[summarize]") {
  const std::string p = ec::summary_prompt("The quick brown fox.");
  CHECK(p.find("at most 5 sentences") != std::string::npos);
  CHECK(p.find("<document>\nThe quick brown fox.\n</document>") != std::string::npos);
  CHECK(p.find("truncated") == std::string::npos);

  std::string big;
  while (big.size() < 20000) big += "ü";
  const std::string q = ec::summary_prompt(big);
  CHECK(valid_utf8(q));
  CHECK(q.find("truncated") != std::string::npos);
  const size_t open = q.find("<document>\n") + 11;
  const size_t close = q.find("\n</document>");
  CHECK(close - open <= ec::kSummaryPromptTextBytes);
  CHECK(close - open >= ec::kSummaryPromptTextBytes - 3);
}

TEST_CASE("top_keywords ranks frequent content words, ties alphabetically", "[summarize]") {
  CHECK(top_keywords(kArticle, 3) == std::vector<std::string>{"panels", "solar", "efficiency"});
  CHECK(top_keywords("beta alpha gamma beta alpha the the the of 42 42 x", 10) ==
        std::vector<std::string>{"alpha", "beta", "gamma"});
  CHECK(top_keywords("Café cafe CAFÉ résumé", 2) == std::vector<std::string>{"cafe", "resume"});
  CHECK(top_keywords(kArticle, 0).empty());
  CHECK(top_keywords("").empty());
  CHECK(top_keywords("\xFF\xFE and the of").empty());
  CHECK(top_keywords(kArticle) == top_keywords(kArticle));
}
