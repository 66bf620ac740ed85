// The Markdown transcript of a chat (GET /api/v1/chats/:id/export?format=markdown).
//
// Message content is the user's or the model's own Markdown and is kept as written, but inside a
// blockquote: every line is prefixed "> ", so nothing in it (a "# heading", a "---", an unclosed
// ``` fence) can end its section or forge another message's heading; CommonMark closes an open
// fence at the end of its blockquote.
#include "chat/chat_store.hpp"

#include "core/json.hpp"
#include "core/time.hpp"
#include "core/utf8.hpp"

namespace ec {

namespace {

// Headings and list items are single lines.
std::string one_line(std::string_view s) {
  std::string out;
  for (char c : utf8_scrubbed(s)) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? ' ' : c);
  }
  return out;
}

void append_quoted(std::string& out, std::string_view text) {
  std::string clean = utf8_scrubbed(text);
  if (clean.empty()) {
    out += "> _(empty)_\n";
    return;
  }
  size_t start = 0;
  while (start <= clean.size()) {
    size_t end = clean.find('\n', start);
    if (end == std::string::npos) end = clean.size();
    std::string_view line(clean.data() + start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out += line.empty() ? ">" : "> ";
    out += line;
    out += '\n';
    if (end == clean.size()) break;
    start = end + 1;
  }
}

// A source as sent in the `sources` event: {n|number, title, documentId, url?, …}. Read
// tolerantly, since it is stored JSON.
void append_source(std::string& out, const json& src, size_t index) {
  int64_t n = get_int(src, "n").value_or(get_int(src, "number").value_or(0));
  if (n <= 0) n = static_cast<int64_t>(index + 1);
  std::string title = one_line(string_or(src, "title", ""));
  std::string doc = one_line(string_or(src, "documentId", string_or(src, "docId", "")));
  std::string url = one_line(string_or(src, "url", ""));
  if (title.empty()) title = doc.empty() ? "Untitled source" : doc;
  out += std::to_string(n) + ". ";
  bool linkable = url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0;
  if (linkable && url.find_first_of(" ()<>") == std::string::npos) {
    std::string text;
    for (char c : title) {
      if (c == '[' || c == ']' || c == '\\') text.push_back('\\');
      text.push_back(c);
    }
    out += "[" + text + "](" + url + ")";
  } else {
    out += title;
  }
  if (!doc.empty() && doc != title) out += " (`" + doc + "`)";
  out += '\n';
}

}  // namespace

std::string export_chat_markdown(const ChatRecord& chat, const std::vector<MessageRecord>& msgs) {
  std::string out = "# " + one_line(chat.title) + "\n\n";
  out += "- Chat: `" + chat.id + "`\n";
  out += "- Created: " + iso8601_ms(chat.created_ms) + "\n";
  out += "- Updated: " + iso8601_ms(chat.updated_ms) + "\n";
  out += "- Messages: " + std::to_string(msgs.size()) + "\n";
  for (const MessageRecord& m : msgs) {
    out += "\n---\n\n";
    if (m.role == "assistant") {
      out += "## Assistant";
      if (!m.provider.empty() || !m.model.empty()) {
        out += " (" + one_line(m.provider.empty() ? "unknown" : m.provider);
        if (!m.model.empty()) out += "/" + one_line(m.model);
        out += ")";
      }
    } else if (m.role == "user") {
      out += "## User";
    } else {
      out += "## " + one_line(m.role);
    }
    out += "\n\n*" + iso8601_ms(m.created_ms);
    if (m.status != "complete") {
      out += " · " + one_line(m.status);
      if (!m.error.empty()) out += ": " + one_line(m.error);
    }
    out += "*\n\n";
    append_quoted(out, m.content);
    if (m.sources.is_array() && !m.sources.empty()) {
      out += "\n**Sources**\n\n";
      for (size_t i = 0; i < m.sources.size(); ++i) append_source(out, m.sources[i], i);
    }
  }
  return out;
}

}  // namespace ec
