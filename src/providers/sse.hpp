// Server-Sent Events, both directions: an incremental decoder for provider streams (OpenAI,
// Gemini with alt=sse, Workers AI all speak text/event-stream) and an encoder for the streams the
// core sends to clients.
//
// The decoder follows the WHATWG HTML "event stream interpretation" (§9.2.6) exactly, because
// provider streams arrive in arbitrary network chunks: a line, a CRLF pair or a UTF-8 BOM can be
// split across two feed() calls. It is sans-IO — bytes in, events out — and bounds its memory: an
// event bigger than max_event_bytes puts it in a failed state instead of growing without limit
// (a hostile or broken upstream must not exhaust the Wasm heap).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ec {

struct SseEvent {
  std::string event = "message";  // the `event:` field, "message" when absent
  std::string data;               // `data:` lines joined with '\n'
  std::string id;                 // the last event ID in effect (it persists across events)
  std::optional<int64_t> retry;   // a valid `retry:` seen in this event's block, if any
};

inline constexpr size_t kSseDefaultMaxEventBytes = size_t{1} << 20;  // 1 MiB

class SseDecoder {
 public:
  explicit SseDecoder(size_t max_event_bytes = kSseDefaultMaxEventBytes)
      : max_event_bytes_(max_event_bytes) {}

  // Consumes the next bytes of the stream; complete events become available from take().
  // Ignored once failed().
  void feed(std::string_view bytes);

  // End of stream: per the spec, a trailing event not terminated by a blank line is discarded.
  // The decoder is then reset (failure and last event ID included) and may decode a new stream.
  void finish();

  // Moves out the events completed so far, in stream order.
  std::vector<SseEvent> take();

  // True once one event (its field lines plus the line being read) exceeded max_event_bytes.
  // Buffered partial input is dropped; events completed before the overflow stay in take().
  bool failed() const { return failed_; }

  const std::string& last_event_id() const { return last_id_; }
  // The reconnection time from the most recent valid `retry:` field.
  std::optional<int64_t> reconnection_ms() const { return reconnection_ms_; }

 private:
  void feed_bytes(std::string_view bytes);
  void process_line(std::string_view line);
  void dispatch();
  bool over_limit(size_t extra) const;
  void fail();

  size_t max_event_bytes_;
  bool failed_ = false;
  bool started_ = false;    // past the optional BOM
  std::string head_;        // up to 2 held bytes that may still turn out to be a BOM
  bool skip_lf_ = false;    // the previous chunk ended with CR: a leading LF completes CRLF
  std::string line_;        // partial line carried between chunks
  std::string data_;        // data buffer (each line followed by '\n')
  std::string event_type_;  // event type buffer
  std::optional<int64_t> block_retry_;
  std::string last_id_;
  std::optional<int64_t> reconnection_ms_;
  std::vector<SseEvent> ready_;
};

// One encoded event: optional `event:` and `id:` lines (CR, LF and NUL removed, since they would
// break the framing or be ignored by the reader), then one `data:` line per line of data (split on
// CRLF, CR or LF), then the blank line. An empty event name is omitted (the reader says "message").
std::string sse_event(std::string_view event, std::string_view data, std::string_view id = "");

// A comment line (": text\n\n"), used as a keep-alive that readers ignore.
std::string sse_comment(std::string_view text);

}  // namespace ec
