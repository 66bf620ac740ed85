// A PDF file's object graph: where each object lives (classic xref tables, xref streams, object
// streams, and a recovery scan of "N G obj" for broken files), lazy parsing with a cache, and
// stream decoding. Sans-IO: a FlateDecode stream reports kNeedsInflate with its input until the
// caller provides the inflated bytes (the "zlib.inflate" effect).
#pragma once

#include "core/error.hpp"
#include "extract/pdf/lexer.hpp"
#include "extract/pdf/object.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ec {

enum class PdfStream { kReady, kNeedsInflate, kUnavailable };

class PdfDocument {
 public:
  static constexpr size_t kMaxObjects = 1000000;

  // `bytes` must outlive the document.
  explicit PdfDocument(std::string_view bytes) : bytes_(bytes) {}

  // Header check, recovery scan, xref chain, trailer. Errors: extract.malformed/encrypted.
  Status load();
  // Streams the structure needs before objects can be resolved: xref and object streams.
  std::vector<uint32_t> structure_streams() const;
  // Call once structure_streams() are decoded or failed: registers compressed objects.
  void finish_structure();

  const PdfObj& trailer() const { return trailer_; }
  // The value of indirect object `num`, or nullptr if it is missing or unparsable.
  const PdfObj* object(uint32_t num);
  // Follows references (bounded); a missing target yields a null object.
  const PdfObj& deref(const PdfObj& o);
  const PdfObj* deref_get(const PdfObj& dict, std::string_view key);
  // Object numbers of every object found by the scan, in file order (for recovery).
  const std::vector<uint32_t>& scanned() const { return scan_order_; }

  PdfStream stream(uint32_t num, std::string_view* out);
  // For a stream in kNeedsInflate: the bytes to inflate (after any ASCII pre-filter).
  std::string_view inflate_input(uint32_t num) const;
  void provide_inflated(uint32_t num, std::optional<std::string> data);

 private:
  struct Loc {
    bool in_stream = false;
    size_t offset = 0;    // direct objects: offset of "N G obj"
    uint32_t stream = 0;  // compressed objects: the object stream and index in it
    uint32_t index = 0;
  };
  struct ObjStm {
    std::vector<std::pair<uint32_t, size_t>> entries;  // object number, offset after /First
    std::string_view data;
  };

  void scan();
  bool verify_at(size_t offset, uint32_t num) const;
  std::optional<size_t> find_startxref() const;
  bool read_classic_xref(size_t offset, std::vector<PdfObj>* trailers);
  void read_xref_chain();
  void apply_xref_stream(uint32_t num);
  std::optional<PdfIndirect> parse_direct(size_t offset);
  void load_objstm(uint32_t num);

  std::string_view bytes_;
  std::map<uint32_t, Loc> table_;
  std::vector<uint32_t> scan_order_;
  std::set<uint32_t> from_xref_;  // entries decided by an xref section (newest first)
  std::vector<uint32_t> xref_streams_;
  std::vector<uint32_t> objstms_;
  std::map<uint32_t, ObjStm> loaded_objstms_;
  PdfObj trailer_;
  std::map<uint32_t, std::optional<PdfIndirect>> cache_;
  std::map<uint32_t, std::string> decoded_;
  std::map<uint32_t, std::string> inflate_inputs_;
  std::map<uint32_t, std::optional<std::string>> inflated_;
  std::set<uint32_t> failed_;
  PdfParseBudget budget_{64, 1000000};  // shared by every object parse in the document
  int resolve_depth_ = 0;
};

}  // namespace ec
