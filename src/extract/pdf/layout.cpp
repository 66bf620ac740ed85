#include "extract/pdf/layout.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <string_view>

namespace ec {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool has_letter(std::string_view s) {
  for (char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || static_cast<unsigned char>(c) >= 0x80)
      return true;
  }
  return false;
}

// Font size quantised to half points, so 11.9996 and 12 count as the same size.
int size_key(double size) { return static_cast<int>(std::lround(size * 2)); }

}  // namespace

Result<ExtractedText> pdf_layout_text(const std::vector<std::vector<PdfLine>>& pages) {
  // The body size is the one most characters are set in; headings stand out from it.
  std::map<int, size_t> chars_by_size;
  size_t bold = 0, total = 0;
  for (const auto& page : pages) {
    for (const PdfLine& l : page) {
      chars_by_size[size_key(l.size)] += l.chars;
      bold += l.bold_chars;
      total += l.chars;
    }
  }
  int body = 0;
  size_t best = 0;
  for (auto [k, n] : chars_by_size) {
    if (n > best) best = n, body = k;
  }
  bool body_is_bold = total > 0 && bold * 2 > total;
  std::vector<int> heading_sizes;  // distinct larger sizes, largest first → level 1
  for (auto [k, n] : chars_by_size) {
    if (k * 20 >= body * 23) heading_sizes.push_back(k);
  }
  std::sort(heading_sizes.rbegin(), heading_sizes.rend());

  ExtractedText out;
  out.format = "pdf";
  for (const auto& page : pages) {
    bool first_on_page = true;
    for (const PdfLine& l : page) {
      std::string_view text = trim(l.text);
      if (text.empty()) continue;
      if (!out.text.empty()) out.text += first_on_page || l.paragraph_before ? "\n\n" : "\n";
      first_on_page = false;
      int k = size_key(l.size);
      auto larger = std::find(heading_sizes.begin(), heading_sizes.end(), k);
      bool all_bold = !body_is_bold && l.chars > 0 && l.bold_chars == l.chars;
      if (text.size() <= 120 && has_letter(text) &&
          (larger != heading_sizes.end() || (all_bold && k >= body))) {
        int level = larger != heading_sizes.end()
                        ? static_cast<int>(larger - heading_sizes.begin()) + 1
                        : static_cast<int>(heading_sizes.size()) + 1;
        out.headings.push_back(Heading{std::min(level, 6), std::string(text), out.text.size()});
      }
      out.text += text;
    }
  }
  if (out.text.empty()) {
    return api_error(Err::extract_no_text,
                     "the PDF contains no extractable text (it may be scanned images)");
  }
  return out;
}

}  // namespace ec
