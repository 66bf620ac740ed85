// Which time format an answer uses: ISO 8601 on the canonical API (/api/v1/...), epoch milliseconds
// on the seed routes that share a handler with it (seed 003's /api/jobs, /api/admin/ping), as
// those routes always answered (core/time.hpp).
#pragma once

#include "core/time.hpp"
#include "http/pipeline.hpp"

namespace ec {

inline TimeFormat answer_time_format(const Call& call) {
  return call.ctx.request().path.starts_with("/api/v1/") ? TimeFormat::kIso8601
                                                         : TimeFormat::kEpochMs;
}

}  // namespace ec
