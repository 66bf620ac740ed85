#include "core/time.hpp"

#include <cstdio>

namespace ec {

std::string iso8601_ms(int64_t epoch_ms) {
  int64_t ms = epoch_ms % 1000;
  int64_t secs = epoch_ms / 1000;
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  // Howard Hinnant's civil_from_days: exact for the proleptic Gregorian calendar.
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<long long>(y), static_cast<long long>(m), static_cast<long long>(d),
                static_cast<long long>(rem / 3600), static_cast<long long>((rem % 3600) / 60),
                static_cast<long long>(rem % 60), static_cast<long long>(ms));
  return buf;
}

json time_json(int64_t epoch_ms, TimeFormat format) {
  return format == TimeFormat::kIso8601 ? json(iso8601_ms(epoch_ms)) : json(epoch_ms);
}

json time_json(std::optional<int64_t> epoch_ms, TimeFormat format) {
  return epoch_ms ? time_json(*epoch_ms, format) : json(nullptr);
}

}  // namespace ec
