// Stream decoding for PdfDocument: the filter chain, with FlateDecode suspended on the caller
// (the "zlib.inflate" effect) and everything cheap done in place.
#include "extract/pdf/document.hpp"
#include "extract/pdf/filters.hpp"

namespace ec {

PdfStream PdfDocument::stream(uint32_t num, std::string_view* out) {
  if (auto it = decoded_.find(num); it != decoded_.end()) {
    *out = it->second;
    return PdfStream::kReady;
  }
  if (failed_.count(num) != 0) return PdfStream::kUnavailable;
  if (inflate_inputs_.count(num) != 0 && inflated_.count(num) == 0) return PdfStream::kNeedsInflate;
  const PdfObj* dict = object(num);
  auto ind = cache_.find(num);
  if (dict == nullptr || ind == cache_.end() || !ind->second->is_stream) {
    failed_.insert(num);
    return PdfStream::kUnavailable;
  }
  std::vector<const PdfObj*> filters, parms;
  const PdfObj* f = deref_get(*dict, "Filter");
  const PdfObj* p = deref_get(*dict, "DecodeParms");
  if (f && f->is_array()) {
    for (const PdfObj& x : f->items) filters.push_back(&x);
  } else if (f) {
    filters.push_back(f);
  }
  for (size_t i = 0; i < filters.size(); ++i) {
    const PdfObj* parm = nullptr;
    if (p && p->is_array() && i < p->items.size()) parm = &deref(p->items[i]);
    if (p && p->is_dict()) parm = p;
    parms.push_back(parm);
  }
  std::string data(ind->second->raw);
  bool inflated_once = false;
  for (size_t i = 0; i < filters.size(); ++i) {
    const PdfObj& name = deref(*filters[i]);
    std::optional<std::string> next;
    if (name.is_name("ASCIIHexDecode") || name.is_name("AHx")) {
      next = pdf_ascii_hex_decode(data);
    } else if (name.is_name("ASCII85Decode") || name.is_name("A85")) {
      next = pdf_ascii85_decode(data);
    } else if ((name.is_name("FlateDecode") || name.is_name("Fl")) && !inflated_once) {
      inflated_once = true;
      auto got = inflated_.find(num);
      if (got == inflated_.end()) {
        inflate_inputs_[num] = std::move(data);
        return PdfStream::kNeedsInflate;
      }
      if (got->second) {
        auto param = [&](const char* key, int fallback) {
          const PdfObj* v = parms[i] ? parms[i]->get(key) : nullptr;
          return v && v->is_int() ? static_cast<int>(v->integer) : fallback;
        };
        next = pdf_undo_predictor(*got->second, param("Predictor", 1), param("Colors", 1),
                                  param("BitsPerComponent", 8), param("Columns", 1));
      }
    }  // DCT, JPX, LZW, CCITT, JBIG2, a second Flate: not text, or not worth it — skip
    if (!next) {
      failed_.insert(num);
      return PdfStream::kUnavailable;
    }
    data = std::move(*next);
  }
  inflate_inputs_.erase(num);
  inflated_.erase(num);
  auto& slot = decoded_[num];
  slot = std::move(data);
  *out = slot;
  return PdfStream::kReady;
}

std::string_view PdfDocument::inflate_input(uint32_t num) const {
  auto it = inflate_inputs_.find(num);
  return it == inflate_inputs_.end() ? std::string_view() : std::string_view(it->second);
}

void PdfDocument::provide_inflated(uint32_t num, std::optional<std::string> data) {
  if (inflate_inputs_.count(num) == 0) return;
  inflated_[num] = std::move(data);
}

}  // namespace ec
