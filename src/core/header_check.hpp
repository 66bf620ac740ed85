// The one check every response header passes on its way out of the core (a response frame or a
// stream head): the platform refuses to build a Response with a header it cannot carry, and by
// then the handler has done its work (debited, stored), so a bad header must never get that far.
//   name:  an RFC 9110 token, 1..kMaxHeaderNameBytes bytes
//   value: printable ASCII or HTAB, at most kMaxHeaderValueBytes bytes (no CR, LF, NUL or other
//          control characters; nothing past 0x7E, which the shim would decode to a string the
//          Headers API refuses)
// An invalid header is dropped, never passed on, and reported in the request's log line.
#pragma once

#include "core/envelope.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ec {

inline constexpr size_t kMaxHeaderNameBytes = 256;
inline constexpr size_t kMaxHeaderValueBytes = 8192;

bool valid_header_name(std::string_view name);
bool valid_header_value(std::string_view value);

// Removes the headers that break the rules above; returns each one's name, cut to 64 bytes with
// any byte outside the token set as '?', for the log (values are never logged: they may be
// whatever a client sent).
std::vector<std::string> drop_invalid_headers(HeaderList& headers);

// Adds "droppedHeaders":[…] to a JSON log line and raises it to error level: a header the core
// built and could not send is a bug in the core, not the client's fault.
void note_dropped_headers(std::string& log_line, const std::vector<std::string>& dropped);

}  // namespace ec
