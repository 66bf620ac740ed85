// JSON and CSV → text: structured records become "name: value" lines, the shape an embedder and
// a reader both understand.
#include "core/json.hpp"
#include "extract/internal.hpp"

#include <algorithm>
#include <string>

namespace ec::extract_detail {
namespace {

constexpr size_t kMaxKeyBytes = 128;  // a key or header name longer than this is cut

// Keys and values may hold newlines and other controls (JSON escapes, quoted CSV fields); a
// record line must stay one line, so they become spaces and runs collapse.
std::string one_line(std::string_view s) { return collapse_spaces(s); }

std::string key_text(std::string_view key) {
  return std::string(utf8_prefix(one_line(key), kMaxKeyBytes));
}

class JsonFlattener {
 public:
  JsonFlattener(TextBuilder& b, size_t budget) : b_(b), budget_(budget) {}

  // One "path: value" line per leaf; arrays as path[i].
  void flatten(const json& v, std::string& path) {
    if (b_.size() > budget_) return;
    if (v.is_object() && !v.empty()) {
      for (auto it = v.begin(); it != v.end(); ++it) {
        size_t len = path.size();
        if (!path.empty()) path.push_back('.');
        path += key_text(it.key());
        flatten(*it, path);
        path.resize(len);
      }
    } else if (v.is_array() && !v.empty()) {
      for (size_t i = 0; i < v.size(); ++i) {
        size_t len = path.size();
        path += "[" + std::to_string(i) + "]";
        flatten(v[i], path);
        path.resize(len);
      }
    } else {
      std::string line = path.empty() ? std::string() : path + ": ";
      if (const std::string* s = v.get_ptr<const std::string*>()) {
        line += one_line(*s);
      } else {
        line += dump_json(v);  // numbers, booleans, null, {} and []
      }
      b_.line_break();
      b_.text(line);
    }
  }

 private:
  TextBuilder& b_;
  size_t budget_;
};

}  // namespace

Result<ExtractedText> extract_json(std::string_view utf8) {
  std::optional<json> doc = parse_json(utf8);
  if (!doc) {
    return api_error(Err::extract_malformed, "document is not valid JSON (or nested too deep)");
  }
  TextBuilder b;
  JsonFlattener flat(b, output_budget(utf8.size()));
  std::string path;
  if (doc->is_object()) {
    // nlohmann's json keeps object keys sorted, so sections come out in key order.
    for (auto it = doc->begin(); it != doc->end(); ++it) {
      path = key_text(it.key());
      if (it->is_object() && !it->empty()) {
        b.heading(1, path);
        flat.flatten(*it, path);
        b.paragraph_break();
      } else {
        flat.flatten(*it, path);
      }
    }
  } else {
    flat.flatten(*doc, path);
  }
  return b.finish("json");
}

namespace {

// Picks the delimiter that occurs most often in the header line, outside quotes.
char detect_delimiter(std::string_view s) {
  size_t comma = 0, semi = 0, tab = 0;
  bool quoted = false;
  for (char c : s) {
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == '\n') break;
    comma += c == ',';
    semi += c == ';';
    tab += c == '\t';
  }
  if (semi > comma && semi >= tab) return ';';
  if (tab > comma && tab > semi) return '\t';
  return ',';
}

// RFC 4180 reader. Malformed quoting degrades to text instead of failing: a quote inside an
// unquoted field is literal, text after a closing quote is appended, an unterminated quote runs
// to the end of the input.
class CsvReader {
 public:
  CsvReader(std::string_view s, char delim) : s_(s), delim_(delim) {}

  bool next_row(std::vector<std::string>& row) {
    if (pos_ >= s_.size()) return false;
    row.clear();
    std::string field;
    bool quoted = false;
    bool field_start = true;
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (quoted) {
        if (c != '"') {
          field.push_back(c);
        } else if (pos_ < s_.size() && s_[pos_] == '"') {
          field.push_back('"');
          ++pos_;
        } else {
          quoted = false;
        }
        continue;
      }
      if (c == delim_) {
        row.push_back(std::move(field));
        field.clear();
        field_start = true;
        continue;
      }
      if (c == '\n') break;
      if (c == '"' && field_start) {
        quoted = true;
        field.clear();  // spaces before an opening quote ("a, \"b\"") are not part of it
        continue;
      }
      if (c != ' ') field_start = false;
      field.push_back(c);
    }
    row.push_back(std::move(field));
    return true;
  }

 private:
  std::string_view s_;
  char delim_;
  size_t pos_ = 0;
};

bool blank_row(const std::vector<std::string>& row) {
  return std::all_of(row.begin(), row.end(), [](const std::string& f) {
    return f.find_first_not_of(" \t\n") == std::string::npos;
  });
}

std::string column_name(size_t i) { return "column " + std::to_string(i + 1); }

}  // namespace

ExtractedText extract_csv(std::string_view utf8) {
  CsvReader reader(utf8, detect_delimiter(utf8));
  std::vector<std::string> header, row;
  while (reader.next_row(header) && blank_row(header)) {
  }
  for (size_t i = 0; i < header.size(); ++i) {
    header[i] = key_text(header[i]);
    if (header[i].empty()) header[i] = column_name(i);
  }
  TextBuilder b;
  size_t budget = output_budget(utf8.size());
  bool any_row = false;
  while (b.size() <= budget && reader.next_row(row)) {
    if (blank_row(row)) continue;
    any_row = true;
    b.paragraph_break();
    for (size_t i = 0; i < row.size(); ++i) {
      std::string value = one_line(row[i]);
      if (value.empty()) continue;
      b.line_break();
      b.text((i < header.size() ? header[i] : column_name(i)) + ": " + value);
    }
  }
  if (!any_row && !blank_row(header)) {  // a header alone still says what the file is about
    std::string names;
    for (const std::string& h : header) names += (names.empty() ? "" : ", ") + h;
    b.text(names);
  }
  return b.finish("csv");
}

}  // namespace ec::extract_detail
