#include "providers/sse.hpp"

#include <utility>

namespace ec {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// `retry:` takes only ASCII digits (WHATWG); anything else, or an absurd length, is ignored.
std::optional<int64_t> parse_retry(std::string_view v) {
  if (v.empty() || v.size() > 15) return std::nullopt;
  int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

void append_clean(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c != '\r' && c != '\n' && c != '\0') out.push_back(c);
  }
}

}  // namespace

void SseDecoder::feed(std::string_view bytes) {
  if (failed_) return;
  if (!started_) {
    // Hold bytes until we know whether the stream starts with a BOM (it may be split).
    while (!bytes.empty() && head_.size() < kBom.size()) {
      if (bytes.front() != kBom[head_.size()]) break;
      head_.push_back(bytes.front());
      bytes.remove_prefix(1);
    }
    if (head_.size() == kBom.size()) {
      started_ = true;  // a whole BOM: dropped
      head_.clear();
    } else if (!bytes.empty()) {
      started_ = true;  // not a BOM after all: the held bytes are content
      std::string held = std::move(head_);
      head_.clear();
      feed_bytes(held);
    } else {
      return;  // still a BOM prefix; wait for more
    }
  }
  feed_bytes(bytes);
}

void SseDecoder::feed_bytes(std::string_view bytes) {
  if (skip_lf_ && !bytes.empty()) {
    skip_lf_ = false;
    if (bytes.front() == '\n') bytes.remove_prefix(1);
  }
  while (!bytes.empty() && !failed_) {
    const size_t eol = bytes.find_first_of("\r\n");
    if (eol == std::string_view::npos) {
      if (over_limit(bytes.size())) return fail();
      line_.append(bytes);
      return;
    }
    const std::string_view part = bytes.substr(0, eol);
    if (over_limit(part.size())) return fail();
    if (line_.empty()) {
      process_line(part);  // the common case: a whole line inside this chunk, no copy
    } else {
      line_.append(part);
      std::string line = std::move(line_);
      line_.clear();
      process_line(line);
    }
    size_t consumed = eol + 1;
    if (bytes[eol] == '\r') {
      if (consumed < bytes.size()) {
        if (bytes[consumed] == '\n') ++consumed;
      } else {
        skip_lf_ = true;  // CR ends this chunk: the next chunk may start with its LF
      }
    }
    bytes.remove_prefix(consumed);
  }
}

bool SseDecoder::over_limit(size_t extra) const {
  return line_.size() + extra + data_.size() + event_type_.size() > max_event_bytes_;
}

void SseDecoder::fail() {
  failed_ = true;
  line_.clear();
  line_.shrink_to_fit();
  data_.clear();
  data_.shrink_to_fit();
  event_type_.clear();
  head_.clear();
}

void SseDecoder::process_line(std::string_view line) {
  if (line.empty()) return dispatch();
  if (line.front() == ':') return;  // comment
  std::string_view field = line;
  std::string_view value;
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "event") {
    event_type_.assign(value);
  } else if (field == "data") {
    data_.append(value);
    data_.push_back('\n');
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
  } else if (field == "retry") {
    if (auto ms = parse_retry(value)) {
      reconnection_ms_ = ms;
      block_retry_ = ms;
    }
  }
  // Any other field name is ignored, as the spec requires.
}

void SseDecoder::dispatch() {
  if (data_.empty()) {  // no data lines: nothing to dispatch, but the block still ends
    event_type_.clear();
    block_retry_.reset();
    return;
  }
  SseEvent ev;
  data_.pop_back();  // the '\n' after the last data line
  ev.data = std::move(data_);
  if (!event_type_.empty()) ev.event = std::move(event_type_);
  ev.id = last_id_;
  ev.retry = block_retry_;
  ready_.push_back(std::move(ev));
  data_.clear();
  event_type_.clear();
  block_retry_.reset();
}

void SseDecoder::finish() {
  // Pending data is discarded (spec: an event without its final blank line is not dispatched).
  failed_ = false;
  started_ = false;
  head_.clear();
  skip_lf_ = false;
  line_.clear();
  data_.clear();
  event_type_.clear();
  block_retry_.reset();
  last_id_.clear();
}

std::vector<SseEvent> SseDecoder::take() { return std::exchange(ready_, {}); }

std::string sse_event(std::string_view event, std::string_view data, std::string_view id) {
  std::string out;
  out.reserve(data.size() + event.size() + id.size() + 24);
  if (!event.empty()) {
    out.append("event: ");
    append_clean(out, event);
    out.push_back('\n');
  }
  if (!id.empty()) {
    out.append("id: ");
    append_clean(out, id);
    out.push_back('\n');
  }
  size_t pos = 0;
  while (true) {
    const size_t eol = data.find_first_of("\r\n", pos);
    out.append("data: ");
    out.append(
        data.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos));
    out.push_back('\n');
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
    if (data[eol] == '\r' && pos < data.size() && data[pos] == '\n') ++pos;
  }
  out.push_back('\n');
  return out;
}

std::string sse_comment(std::string_view text) {
  std::string out = ": ";
  append_clean(out, text);
  out.append("\n\n");
  return out;
}

}  // namespace ec
