// The extractive `local` provider: see local_answerer.hpp for scoring, order and bounds.
#include "chat/local_answerer.hpp"

#include "core/det_math.hpp"
#include "core/utf8.hpp"
#include "index/lexical_embedder.hpp"
#include "text/summarize.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <map>
#include <set>

#if defined(__clang__)
#pragma clang fp contract(off)  // keep scores bit-identical between native and Wasm builds
#endif

namespace ec {
namespace {

constexpr double kRankPrior = 0.1;
constexpr double kRelativeFloor = 0.3;
constexpr size_t kMaxQuestionBytes = 4096;
constexpr size_t kMinSentenceWords = 3;

// Folded English function words and the words questions are phrased with: they say nothing about
// what is being asked. (summarize.cpp keeps a similar list for document keywords.)
constexpr std::string_view kStopWords[] = {
    "a",        "about",  "above", "after",   "again",   "against", "all",    "also",    "am",
    "an",       "and",    "any",   "are",     "as",      "at",      "be",     "because", "been",
    "before",   "being",  "below", "between", "both",    "but",     "by",     "can",     "could",
    "describe", "did",    "do",    "does",    "doing",   "down",    "during", "each",    "even",
    "explain",  "few",    "for",   "from",    "further", "get",     "give",   "had",     "has",
    "have",     "having", "he",    "her",     "here",    "hers",    "him",    "his",     "how",
    "however",  "i",      "if",    "in",      "into",    "is",      "it",     "its",     "just",
    "know",     "let",    "like",  "list",    "may",     "me",      "might",  "more",    "most",
    "much",     "must",   "my",    "need",    "no",      "nor",     "not",    "now",     "of",
    "off",      "on",     "once",  "only",    "or",      "other",   "our",    "out",     "over",
    "own",      "please", "same",  "say",     "says",    "she",     "should", "show",    "so",
    "some",     "such",   "tell",  "than",    "that",    "the",     "their",  "them",    "then",
    "there",    "these",  "they",  "this",    "those",   "through", "to",     "too",     "under",
    "until",    "up",     "us",    "use",     "very",    "want",    "was",    "we",      "were",
    "what",     "when",   "where", "which",   "while",   "who",     "whom",   "whose",   "why",
    "will",     "with",   "would", "you",     "your",    "yours"};

bool is_stop_word(std::string_view w) {
  return std::find(std::begin(kStopWords), std::end(kStopWords), w) != std::end(kStopWords);
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A deliberately light English stemmer: plurals, -ing, -ed and a final -e, so that "panels" and
// "panel", "installing" and "installed", "retrieve" and "retrieved" meet. Only long enough words
// are touched, so short ones ("is", "bus") stay themselves.
std::string stem(std::string w) {
  if (w.size() >= 5 && ends_with(w, "ies")) {
    w.resize(w.size() - 3);
    w += 'y';
  } else if (w.size() >= 4 && w.back() == 's' && !ends_with(w, "ss") && !ends_with(w, "us") &&
             !ends_with(w, "is")) {
    w.pop_back();
  }
  if (w.size() >= 6 && ends_with(w, "ing")) {
    w.resize(w.size() - 3);
  } else if (w.size() >= 5 && ends_with(w, "ed")) {
    w.resize(w.size() - 2);
  }
  if (w.size() >= 5 && w.back() == 'e') w.pop_back();
  return w;
}

// The distinct content terms of text, sorted.
std::vector<std::string> content_terms(std::string_view text, size_t* word_count = nullptr) {
  std::vector<std::string> words = lexical_words(text);
  if (word_count != nullptr) *word_count = words.size();
  std::vector<std::string> terms;
  for (std::string& w : words) {
    if (w.size() < 2 || is_stop_word(w)) continue;
    terms.push_back(stem(std::move(w)));
  }
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
  return terms;
}

struct Candidate {
  size_t source = 0;    // index into sources (its rank)
  size_t position = 0;  // sentence index within the source
  std::string_view text;
  std::vector<size_t> matched;  // indices into the question's terms
  double score = 0;
};

// A quoted sentence: valid UTF-8, whitespace runs collapsed to one space, cut at a word (or
// code-point) boundary to kLocalMaxQuoteBytes with "…".
std::string quote(std::string_view sentence) {
  std::string out;
  bool space = false;
  for (size_t i = 0; i < sentence.size();) {
    uint32_t cp = 0;
    const size_t n = decode_utf8(sentence, i, cp);
    const bool ws = cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\v' || cp == '\f';
    if (ws) {
      space = !out.empty();
    } else {
      if (space) out.push_back(' ');
      space = false;
      append_utf8_scrubbed(out, sentence.substr(i, n));
    }
    i += n;
    if (out.size() > kLocalMaxQuoteBytes) break;
  }
  if (out.size() <= kLocalMaxQuoteBytes) return out;
  constexpr std::string_view kEllipsis = "\xE2\x80\xA6";
  size_t cut = utf8_prefix_bytes(out, kLocalMaxQuoteBytes - kEllipsis.size());
  const size_t word = out.rfind(' ', cut);
  if (word != std::string::npos && word > cut / 2) cut = word;
  out.resize(cut);
  out += kEllipsis;
  return out;
}

std::string normalized(std::string_view sentence) {
  std::string key;
  for (const std::string& w : lexical_words(sentence)) key += w + ' ';
  return key;
}

}  // namespace

std::vector<std::string> local_answer(std::string_view question,
                                      const std::vector<PromptSource>& sources,
                                      size_t max_sentences) {
  max_sentences = std::clamp<size_t>(max_sentences, 1, kLocalMaxAnswerSentences);
  const std::vector<std::string> q_terms =
      content_terms(question.substr(0, utf8_prefix_bytes(question, kMaxQuestionBytes)));

  // Candidate sentences, with the question terms each contains and their document frequencies.
  std::vector<Candidate> candidates;
  std::vector<size_t> df(q_terms.size(), 0);
  const size_t n_sources = std::min(sources.size(), kLocalMaxSources);
  for (size_t s = 0; s < n_sources && !q_terms.empty(); ++s) {
    const std::string_view text = sources[s].text;
    const std::string_view head = text.substr(0, utf8_prefix_bytes(text, kLocalMaxSourceBytes));
    const std::vector<std::string_view> sentences = split_sentences(head);
    for (size_t p = 0; p < sentences.size() && candidates.size() < kLocalMaxSentences; ++p) {
      size_t words = 0;
      const std::vector<std::string> terms = content_terms(sentences[p], &words);
      if (words < kMinSentenceWords) continue;
      Candidate c{s, p, sentences[p], {}, 0};
      for (size_t t = 0; t < q_terms.size(); ++t) {
        if (std::binary_search(terms.begin(), terms.end(), q_terms[t])) {
          c.matched.push_back(t);
          ++df[t];
        }
      }
      candidates.push_back(std::move(c));
    }
  }

  const auto total = static_cast<double>(candidates.size());
  double best = 0;
  for (Candidate& c : candidates) {
    double sum = 0;
    for (size_t t : c.matched) sum += deterministic_ln(1 + total / static_cast<double>(df[t]));
    c.score = sum * (1 + kRankPrior / static_cast<double>(1 + c.source));
    best = std::max(best, c.score);
  }
  if (best <= 0) return {std::string(kLocalNotFound)};

  std::vector<const Candidate*> ranked;
  for (const Candidate& c : candidates) {
    if (c.score > 0 && c.score >= kRelativeFloor * best) ranked.push_back(&c);
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const Candidate* a, const Candidate* b) {
    return a->score > b->score;  // stable: ties stay in (rank, position) order
  });

  // The best sentences, skipping repeats (the same sentence in two chunks or documents).
  std::vector<const Candidate*> chosen;
  std::set<std::string> seen;
  for (const Candidate* c : ranked) {
    if (chosen.size() == max_sentences) break;
    if (seen.insert(normalized(c->text)).second) chosen.push_back(c);
  }

  // Readable order: by source, sources in order of their best chosen sentence; document order
  // within a source.
  std::map<size_t, size_t> group_order;  // source -> position of its best chosen sentence
  for (size_t i = 0; i < chosen.size(); ++i) group_order.emplace(chosen[i]->source, i);
  std::sort(chosen.begin(), chosen.end(), [&](const Candidate* a, const Candidate* b) {
    const size_t ga = group_order[a->source];
    const size_t gb = group_order[b->source];
    return ga != gb ? ga < gb : a->position < b->position;
  });

  std::vector<std::string> pieces;
  for (const Candidate* c : chosen) {
    const int number =
        sources[c->source].number > 0 ? sources[c->source].number : static_cast<int>(c->source) + 1;
    std::string piece = pieces.empty() ? "" : " ";
    piece += quote(c->text);
    piece += " [" + std::to_string(number) + "]";
    pieces.push_back(std::move(piece));
  }
  return pieces;
}

std::string local_model_name() { return "edgechat-extractive-v1"; }

}  // namespace ec
