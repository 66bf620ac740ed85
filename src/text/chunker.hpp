// Recursive text chunking for RAG ingest: splits extracted text into overlapping chunks of at most
// max_chars code points, preferring the coarsest boundary available (section, blank line, line,
// sentence, word, and only as a last resort a code point). A chunk crosses a heading boundary
// only to pack several whole small sections together (see chunk_text).
//
// Chunks are byte ranges into the document, not copies: ingest handles many megabytes per request
// in Wasm, and copying every chunk would double peak memory for no benefit.
#pragma once

#include "core/error.hpp"
#include "extract/extracted.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ec {

// Sizes are in Unicode code points (what a user means by "characters"), not bytes.
struct ChunkOptions {
  size_t max_chars = 512;
  size_t overlap = 64;
};

// Upper bound on max_chars: keeps one chunk well inside an embedding model's input window and
// bounds the per-chunk work of the embedder.
inline constexpr size_t kMaxChunkChars = 8192;

struct Chunk {
  size_t index = 0;  // 0..n-1 in document order
  size_t start = 0;  // byte offsets into ExtractedText::text, [start, end)
  size_t end = 0;
  size_t char_start = 0;  // the same range in code points (each invalid UTF-8 byte counts as one)
  size_t char_end = 0;
  std::vector<std::string> heading_path;  // titles of the enclosing headings, outermost first
};

// 400 "validation.failed" (with per-field messages) unless 0 < max_chars <= kMaxChunkChars and
// overlap < max_chars. Exposed so request validation can reject bad options before any I/O.
Status validate_chunk_options(const ChunkOptions& opt);

// Splits doc.text into chunks (see the file comment). Guarantees, for any input bytes:
//  - every non-whitespace byte is inside some chunk; no chunk is empty or whitespace-only, and
//    chunk ranges are trimmed of ASCII whitespace at both ends;
//  - each chunk has at most opt.max_chars code points and starts and ends on code-point boundaries;
//  - a chunk lies within one section (between consecutive heading offsets), except that
//    consecutive sections of fewer than max_chars / 8 code points each are packed, whole, into
//    chunks of at most max_chars (heading path: the first section's), so a flood of tiny
//    sections costs about as many chunks as the same bytes of prose;
//  - within a section, chunks move strictly forward and each one after the first starts at most
//    opt.overlap code points before the previous one's end (snapped forward to a word start).
// Invalid UTF-8 is tolerated: each invalid byte is one code point. Heading offsets that are out of
// order, past the end or inside a code point are clamped rather than trusted.
Result<std::vector<Chunk>> chunk_text(const ExtractedText& doc, const ChunkOptions& opt);

// The text of a chunk (a view into doc.text; valid while doc.text is unchanged).
inline std::string_view chunk_view(const ExtractedText& doc, const Chunk& c) {
  return std::string_view(doc.text).substr(c.start, c.end - c.start);
}

}  // namespace ec
