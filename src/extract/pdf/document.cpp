#include "extract/pdf/document.hpp"

#include <algorithm>

namespace ec {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

ApiError malformed(std::string message) {
  return api_error(Err::extract_malformed, std::move(message));
}

const PdfObj& null_obj() {
  static const PdfObj kNull;
  return kNull;
}

}  // namespace

Status PdfDocument::load() {
  // Real readers accept junk before the header; so do we, within the first kilobyte.
  size_t header = bytes_.substr(0, 1024).find("%PDF-");
  if (header == std::string_view::npos) return malformed("the file is not a PDF");
  scan();
  read_xref_chain();
  if (trailer_.get("Encrypt") != nullptr) {
    return api_error(Err::extract_encrypted);
  }
  if (table_.empty()) return malformed("the PDF contains no objects");
  return ok_status();
}

void PdfDocument::scan() {
  // Every "N G obj" in the file, later definitions winning: the recovery path when the xref is
  // missing or wrong, and the baseline that xref entries refine.
  size_t pos = 0;
  while (table_.size() < kMaxObjects) {
    size_t at = bytes_.find("obj", pos);
    if (at == std::string_view::npos) break;
    pos = at + 3;
    if (pos < bytes_.size() && !pdf_is_whitespace(bytes_[pos]) && !pdf_is_delimiter(bytes_[pos]))
      continue;
    size_t i = at;
    auto skip_ws = [&] {
      size_t n = 0;
      while (i > 0 && pdf_is_whitespace(bytes_[i - 1])) --i, ++n;
      return n;
    };
    auto skip_digits = [&] {
      size_t n = 0;
      while (i > 0 && is_digit(bytes_[i - 1]) && n < 11) --i, ++n;
      return n;
    };
    if (skip_ws() == 0 || skip_digits() == 0 || skip_ws() == 0) continue;
    size_t num_end = i;
    size_t digits = skip_digits();
    if (digits == 0 || digits > 10) continue;
    if (i > 0 && !pdf_is_whitespace(bytes_[i - 1]) && !pdf_is_delimiter(bytes_[i - 1])) continue;
    uint64_t num = 0;
    for (size_t k = i; k < num_end; ++k) num = num * 10 + static_cast<uint64_t>(bytes_[k] - '0');
    if (num == 0 || num > 0x7fffffff) continue;
    auto n = static_cast<uint32_t>(num);
    table_[n] = Loc{false, i, 0, 0};
    scan_order_.push_back(n);
  }
}

bool PdfDocument::verify_at(size_t offset, uint32_t num) const {
  PdfLexer lex(bytes_, offset);
  PdfToken a = lex.next(), b = lex.next(), c = lex.next();
  return a.kind == PdfToken::Kind::kInt && a.integer == num && b.kind == PdfToken::Kind::kInt &&
         c.kind == PdfToken::Kind::kKeyword && c.text == "obj";
}

std::optional<size_t> PdfDocument::find_startxref() const {
  size_t tail = bytes_.size() > 2048 ? bytes_.size() - 2048 : 0;
  size_t at = bytes_.rfind("startxref");
  if (at == std::string_view::npos || at < tail) return std::nullopt;
  PdfLexer lex(bytes_, at + 9);
  PdfToken t = lex.next();
  if (t.kind != PdfToken::Kind::kInt || t.integer < 0 ||
      static_cast<uint64_t>(t.integer) >= bytes_.size()) {
    return std::nullopt;
  }
  return static_cast<size_t>(t.integer);
}

bool PdfDocument::read_classic_xref(size_t offset, std::vector<PdfObj>* trailers) {
  PdfLexer lex(bytes_, offset);
  PdfToken t = lex.next();
  if (t.kind != PdfToken::Kind::kKeyword || t.text != "xref") return false;
  size_t entries = 0;
  while (true) {
    t = lex.next();
    if (t.kind == PdfToken::Kind::kKeyword && t.text == "trailer") break;
    PdfToken count = lex.next();
    if (t.kind != PdfToken::Kind::kInt || count.kind != PdfToken::Kind::kInt || t.integer < 0 ||
        count.integer < 0 || count.integer > static_cast<int64_t>(kMaxObjects)) {
      return false;
    }
    for (int64_t k = 0; k < count.integer; ++k) {
      PdfToken off = lex.next(), gen = lex.next(), kind = lex.next();
      if (off.kind != PdfToken::Kind::kInt || gen.kind != PdfToken::Kind::kInt ||
          kind.kind != PdfToken::Kind::kKeyword || ++entries > kMaxObjects) {
        return false;
      }
      auto num = static_cast<uint32_t>(t.integer + k);
      if (kind.text != "n" || from_xref_.count(num) != 0 || off.integer < 0 ||
          static_cast<uint64_t>(off.integer) >= bytes_.size()) {
        continue;
      }
      // Trust an entry only when it points at the object it names; otherwise the scan stands.
      if (num != 0 && verify_at(static_cast<size_t>(off.integer), num)) {
        from_xref_.insert(num);
        table_[num] = Loc{false, static_cast<size_t>(off.integer), 0, 0};
      }
    }
  }
  auto dict = pdf_parse_object(lex, budget_);
  if (!dict || !dict->is_dict()) return false;
  trailers->push_back(std::move(*dict));
  return true;
}

void PdfDocument::read_xref_chain() {
  std::vector<PdfObj> trailers;  // newest first
  std::set<size_t> seen;
  std::optional<size_t> next = find_startxref();
  for (int hops = 0; next && hops < 32 && seen.insert(*next).second; ++hops) {
    size_t at = *next;
    next.reset();
    if (!read_classic_xref(at, &trailers)) {
      // An xref stream: "N G obj << /Type /XRef … >> stream".
      PdfLexer lex(bytes_, at);
      PdfToken n = lex.next();
      if (n.kind != PdfToken::Kind::kInt || n.integer <= 0 || n.integer > 0x7fffffff) break;
      auto num = static_cast<uint32_t>(n.integer);
      if (!verify_at(at, num)) break;
      table_[num] = Loc{false, at, 0, 0};
      const PdfObj* d = object(num);
      if (d == nullptr || !d->get("Type") || !d->get("Type")->is_name("XRef")) break;
      xref_streams_.push_back(num);
      trailers.push_back(*d);
    }
    const PdfObj& last = trailers.back();
    if (const PdfObj* hybrid = last.get("XRefStm"); hybrid && hybrid->is_int()) {
      // Hybrid files keep their compressed objects in an xref stream beside the table.
      PdfLexer lex(bytes_, static_cast<size_t>(std::max<int64_t>(0, hybrid->integer)));
      PdfToken n = lex.next();
      if (n.kind == PdfToken::Kind::kInt && n.integer > 0 && n.integer <= 0x7fffffff &&
          verify_at(static_cast<size_t>(hybrid->integer), static_cast<uint32_t>(n.integer))) {
        xref_streams_.push_back(static_cast<uint32_t>(n.integer));
      }
    }
    if (const PdfObj* prev = last.get("Prev"); prev && prev->is_int() && prev->integer >= 0) {
      next = static_cast<size_t>(prev->integer);
    }
  }
  // Merge trailers, newest keys winning; a broken chain falls back to the last "trailer".
  if (trailers.empty()) {
    size_t at = bytes_.rfind("trailer");
    if (at != std::string_view::npos) {
      PdfLexer lex(bytes_, at + 7);
      if (auto d = pdf_parse_object(lex, budget_); d && d->is_dict()) trailers.push_back(*d);
    }
  }
  trailer_.kind = PdfObj::Kind::kDict;
  for (const PdfObj& t : trailers) {
    for (size_t i = 0; i < t.keys.size(); ++i) {
      if (trailer_.get(t.keys[i]) == nullptr) {
        trailer_.keys.push_back(t.keys[i]);
        trailer_.items.push_back(t.items[i]);
      }
    }
  }
  // Object streams are found by the scan too, so a broken xref still reaches their objects.
  for (uint32_t num : scan_order_) {
    if (objstms_.size() >= 10000) break;
    const PdfObj* d = object(num);
    if (d && d->get("Type") && d->get("Type")->is_name("ObjStm")) objstms_.push_back(num);
    if (d && d->get("Type") && d->get("Type")->is_name("XRef") && trailers.empty() &&
        trailer_.get("Root") == nullptr) {
      trailer_ = *d;  // no usable startxref: the last xref stream's dictionary is the trailer
    }
  }
}

std::vector<uint32_t> PdfDocument::structure_streams() const {
  std::vector<uint32_t> out = xref_streams_;
  out.insert(out.end(), objstms_.begin(), objstms_.end());
  return out;
}

void PdfDocument::apply_xref_stream(uint32_t num) {
  std::string_view data;
  if (stream(num, &data) != PdfStream::kReady) return;
  const PdfObj* d = object(num);
  if (d == nullptr) return;
  const PdfObj* w = d->get("W");
  if (w == nullptr || !w->is_array() || w->items.size() != 3) return;
  int widths[3];
  for (int i = 0; i < 3; ++i) {
    widths[i] = static_cast<int>(w->items[static_cast<size_t>(i)].number());
    if (widths[i] < 0 || widths[i] > 8) return;
  }
  size_t row = static_cast<size_t>(widths[0] + widths[1] + widths[2]);
  if (row == 0) return;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  const PdfObj* index = d->get("Index");
  if (index && index->is_array()) {
    for (size_t i = 0; i + 1 < index->items.size(); i += 2)
      ranges.emplace_back(index->items[i].integer, index->items[i + 1].integer);
  } else if (const PdfObj* size = d->get("Size"); size && size->is_int()) {
    ranges.emplace_back(0, size->integer);
  }
  auto field = [&](size_t at, int width, uint64_t fallback) {
    if (width == 0) return fallback;
    uint64_t v = 0;
    for (int i = 0; i < width; ++i) v = (v << 8) | static_cast<unsigned char>(data[at + i]);
    return v;
  };
  size_t pos = 0;
  for (auto [start, count] : ranges) {
    if (start < 0 || count < 0 || count > static_cast<int64_t>(kMaxObjects)) return;
    for (int64_t k = 0; k < count && pos + row <= data.size(); ++k, pos += row) {
      uint64_t type = field(pos, widths[0], 1);
      uint64_t f2 = field(pos + static_cast<size_t>(widths[0]), widths[1], 0);
      uint64_t f3 = field(pos + static_cast<size_t>(widths[0] + widths[1]), widths[2], 0);
      int64_t n = start + k;
      if (n <= 0 || n > 0x7fffffff) continue;
      auto obj = static_cast<uint32_t>(n);
      if (from_xref_.count(obj) != 0 || (type != 1 && type != 2)) continue;
      if (type == 1 && (f2 >= bytes_.size() || !verify_at(static_cast<size_t>(f2), obj))) continue;
      from_xref_.insert(obj);
      if (type == 1) {
        table_[obj] = Loc{false, static_cast<size_t>(f2), 0, 0};
      } else if (f2 <= 0x7fffffff && f3 <= 0xffffffff) {
        table_[obj] = Loc{true, 0, static_cast<uint32_t>(f2), static_cast<uint32_t>(f3)};
      }
    }
  }
}

void PdfDocument::load_objstm(uint32_t num) {
  std::string_view data;
  if (stream(num, &data) != PdfStream::kReady) return;
  const PdfObj* d = object(num);
  const PdfObj* n = d ? d->get("N") : nullptr;
  const PdfObj* first = d ? d->get("First") : nullptr;
  if (!n || !first || !n->is_int() || !first->is_int() || n->integer < 0 || first->integer < 0 ||
      static_cast<uint64_t>(first->integer) > data.size()) {
    return;
  }
  ObjStm stm;
  stm.data = data;
  PdfLexer lex(data.substr(0, static_cast<size_t>(first->integer)));
  for (int64_t i = 0; i < n->integer && i < 100000; ++i) {
    PdfToken a = lex.next(), b = lex.next();
    if (a.kind != PdfToken::Kind::kInt || b.kind != PdfToken::Kind::kInt || a.integer <= 0 ||
        a.integer > 0x7fffffff || b.integer < 0 ||
        static_cast<uint64_t>(first->integer + b.integer) >= data.size()) {
      break;
    }
    auto obj = static_cast<uint32_t>(a.integer);
    stm.entries.emplace_back(obj, static_cast<size_t>(first->integer + b.integer));
    // Objects the xref did not place (broken or absent xref) are taken from here.
    if (from_xref_.count(obj) == 0 && table_.count(obj) == 0 && table_.size() < kMaxObjects) {
      table_[obj] = Loc{true, 0, num, static_cast<uint32_t>(i)};
    }
  }
  loaded_objstms_[num] = std::move(stm);
}

void PdfDocument::finish_structure() {
  for (uint32_t num : xref_streams_) apply_xref_stream(num);
  for (uint32_t num : objstms_) load_objstm(num);
  cache_.clear();  // entries may now resolve differently
}

std::optional<PdfIndirect> PdfDocument::parse_direct(size_t offset) {
  PdfLexer lex(bytes_, offset);
  lex.next();
  lex.next();
  lex.next();  // "N G obj", verified by the caller's table
  auto value = pdf_parse_object(lex, budget_);
  if (!value) return std::nullopt;
  PdfIndirect out;
  out.value = std::move(*value);
  size_t after = lex.pos();
  PdfToken t = lex.next();
  if (!out.value.is_dict() || t.kind != PdfToken::Kind::kKeyword || t.text != "stream") return out;
  size_t start = lex.pos();
  if (start < bytes_.size() && bytes_[start] == '\r') ++start;
  if (start < bytes_.size() && bytes_[start] == '\n') ++start;
  out.is_stream = true;
  (void)after;
  const PdfObj* len = out.value.get("Length");
  if (len != nullptr && len->is_ref()) len = &deref(*len);
  if (len != nullptr && len->is_int() && len->integer >= 0 &&
      static_cast<uint64_t>(len->integer) <= bytes_.size() - start) {
    PdfLexer check(bytes_, start + static_cast<size_t>(len->integer));
    PdfToken end = check.next();
    if (end.kind == PdfToken::Kind::kKeyword && end.text.rfind("endstream", 0) == 0) {
      out.raw = bytes_.substr(start, static_cast<size_t>(len->integer));
      return out;
    }
  }
  // A wrong or indirect-and-missing /Length: the data ends at "endstream".
  size_t end = bytes_.find("endstream", start);
  if (end == std::string_view::npos) end = bytes_.size();
  size_t stop = end;
  if (stop > start && bytes_[stop - 1] == '\n') --stop;
  if (stop > start && bytes_[stop - 1] == '\r') --stop;
  out.raw = bytes_.substr(start, stop - start);
  return out;
}

const PdfObj* PdfDocument::object(uint32_t num) {
  auto cached = cache_.find(num);
  if (cached != cache_.end()) return cached->second ? &cached->second->value : nullptr;
  auto it = table_.find(num);
  if (it == table_.end() || resolve_depth_ > 8) return nullptr;
  ++resolve_depth_;
  std::optional<PdfIndirect> found;
  const Loc loc = it->second;
  if (!loc.in_stream) {
    found = parse_direct(loc.offset);
  } else if (auto stm = loaded_objstms_.find(loc.stream); stm != loaded_objstms_.end()) {
    for (const auto& [obj, offset] : stm->second.entries) {
      if (obj != num) continue;
      PdfLexer lex(stm->second.data, offset);
      if (auto v = pdf_parse_object(lex, budget_)) found = PdfIndirect{std::move(*v), false, {}};
      break;
    }
  }
  --resolve_depth_;
  auto& slot = cache_[num];
  slot = std::move(found);
  return slot ? &slot->value : nullptr;
}

const PdfObj& PdfDocument::deref(const PdfObj& o) {
  const PdfObj* cur = &o;
  for (int hops = 0; cur->is_ref(); ++hops) {
    if (hops >= 16) return null_obj();
    cur = object(cur->ref_num());
    if (cur == nullptr) return null_obj();
  }
  return *cur;
}

const PdfObj* PdfDocument::deref_get(const PdfObj& dict, std::string_view key) {
  const PdfObj* v = dict.get(key);
  if (v == nullptr) return nullptr;
  const PdfObj& r = deref(*v);
  return r.is_null() ? nullptr : &r;
}

}  // namespace ec
