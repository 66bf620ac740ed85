// Local text summarisation for file analyze when no LLM is configured: an extractive summary (the
// document's most representative sentences, verbatim and in order), top keywords, and the prompt
// used instead when an LLM is available.
//
// Extractive, not abstractive: it can only quote the document, so it never states anything the
// document does not. Scoring is the classic Luhn/SumBasic idea: a sentence is representative when
// its content words are frequent in the whole document.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ec {

// Only this many leading bytes are summarised or scanned for keywords: the result is a handful of
// sentences, and a bound keeps a multi-MB upload from costing proportionally more CPU per request.
inline constexpr size_t kMaxSummaryInputBytes = 1024 * 1024;

// Splits text into trimmed, non-empty sentences (views into text, in order). A sentence ends at
// '.', '!' or '?' (runs such as "?!" or "..." and closing quotes/brackets stay with it) followed by
// whitespace or the end, and at a blank line. A period does not end a sentence after a common
// abbreviation ("Dr.", "Inc.", "vs."), a dotted abbreviation ("e.g.", "U.S.") or a single capital
// (an initial, "J. Smith"); decimals ("3.5") never split because no whitespace follows the '.'.
// Single line breaks do not split: extracted text wraps lines inside paragraphs.
std::vector<std::string_view> split_sentences(std::string_view text);

// Up to max_sentences of the highest-scoring sentences, in document order, joined by one space,
// with runs of whitespace collapsed and invalid UTF-8 replaced by U+FFFD. The result never exceeds
// max_chars bytes: sentences that do not fit are skipped, and if not even the best one fits it is
// cut at a word (or, failing that, code-point) boundary. Sentences with fewer than three words
// (headings, list labels) are never picked. Deterministic; empty for text without sentences.
std::string summarize_extractive(std::string_view text, size_t max_sentences = 5,
                                 size_t max_chars = 1200);

// Instruction for an LLM to summarise text in at most five sentences. The text is cut to about
// kSummaryPromptTextBytes on a code-point boundary and fenced as data, not instructions.
inline constexpr size_t kSummaryPromptTextBytes = 8000;
std::string summary_prompt(std::string_view text);

// The n most frequent folded words (see lexical_words) that are not stop words, numbers or single
// characters; ties in alphabetical (bytewise) order. Only the first 256 KiB are counted, the
// lexical tokenizer's own limit.
std::vector<std::string> top_keywords(std::string_view text, size_t n = 10);

}  // namespace ec
