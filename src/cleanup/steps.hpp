// The cleanup steps themselves (cleanup/cleanup.hpp describes each), in the order they run.
#pragma once

#include "cleanup/cleanup.hpp"

#include <vector>

namespace ec {

const std::vector<CleanupStep>& cleanup_steps();

// Helpers for steps written elsewhere (e.g. billing's credit-hold release): delete at most
// p.batch rows of `table` matching `where` (bound params numbered from ?1), oldest rowid first.
Task<Result<CleanupStepResult>> delete_expired_rows(Ctx& ctx, std::string table, std::string where,
                                                    json params, int64_t batch);

}  // namespace ec
