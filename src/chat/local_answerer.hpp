// The offline `local` chat provider (DESIGN §4): an extractive answerer. It cannot write prose;
// it quotes the retrieved sentences most relevant to the question, each followed by its citation,
// so `npm start` answers something useful and verifiable with no model and no keys. Responses
// name it by local_model_name() so nobody mistakes it for an LLM.
//
// Relevance: the question's content words (folded by lexical_words, English stop words and
// question words dropped, lightly stemmed: "panels" ~ "panel", "installed" ~ "install") are looked
// up in every sentence (split_sentences) of every source. A sentence scores the sum of the IDF
// weights, ln(1 + N / df) over the N candidate sentences, of the distinct question words it
// contains, times a small rank prior (1 + 0.1 / (1 + rank)) so that ties go to the better-ranked
// source. Sentences under three words (headings, labels) are skipped, and so are sentences
// scoring under 30% of the best, which would only pad the answer.
//
// Order: the chosen sentences are grouped by source, groups in the order of their best sentence,
// and sentences within a group in document order, so each part reads as its document does.
//
// Bounds: at most kLocalMaxSources sources, kLocalMaxSourceBytes of each, kLocalMaxSentences
// candidate sentences and 4 KiB of question are read; each quoted sentence is cut to
// kLocalMaxQuoteBytes. Deterministic (IDF uses a libm-free logarithm, ties are broken by position),
// and the output is always valid UTF-8. Words are matched whole, so unsegmented scripts (Chinese,
// Japanese) only match when the same run of characters appears in both.
#pragma once

#include "chat/prompt.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ec {

inline constexpr size_t kLocalMaxSources = 50;
inline constexpr size_t kLocalMaxSourceBytes = 64 * 1024;
inline constexpr size_t kLocalMaxSentences = 5000;
inline constexpr size_t kLocalMaxQuoteBytes = 600;
inline constexpr size_t kLocalMaxAnswerSentences = 20;

inline constexpr std::string_view kLocalNotFound = "I could not find this in your documents.";

// Answer pieces to stream as deltas; concatenated they are the answer ("S1 [1] S2 [2]…": every
// piece after the first starts with a space). Each piece is one quoted sentence followed by
// " [n]", n being the source's number (its 1-based position when number <= 0). max_sentences is
// clamped to 1..kLocalMaxAnswerSentences. When no sentence is relevant, or there are no sources,
// the result is the single piece kLocalNotFound.
std::vector<std::string> local_answer(std::string_view question,
                                      const std::vector<PromptSource>& sources,
                                      size_t max_sentences = 4);

// "edgechat-extractive-v1": the model name reported with local answers. Bump the version when
// the scoring or output format changes.
std::string local_model_name();

}  // namespace ec
