// Who may build a document's next generation, and what that build makes live.
//
// A document rebuilds one generation at a time. Claiming a build is one D1 statement that draws the
// generation number from `last_generation` and succeeds only while no other build is in flight, so
// concurrent re-ingests of one docId are serialised: one is accepted, the rest are refused with 409
// "documents.busy" and change nothing. What the accepted build will make live (title, metadata,
// source, object key, chunking) waits in `pending` until the commit that makes its generation live
// copies it into the live columns (kApplyPendingSql); a build that fails leaves the document as it
// was. An inline build whose request died is taken over once it has made no progress for
// kInlineBuildStaleMs; a job's build belongs to the job runner (cancel it to re-ingest at once).
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"
#include "rag/documents.hpp"

#include <optional>
#include <string>

namespace ec {

inline constexpr int64_t kInlineBuildStaleMs = 120 * 1000;

// The live columns a build replaces when it commits.
struct BuildSpec {
  std::string title;
  json metadata = json::object();
  std::string source;  // content | file
  std::string file_id;
  std::string r2_key;
  std::string content_type;
  ChunkOptions chunking;
};

BuildSpec spec_of(const DocumentRecord& d);
// The `pending` column's JSON text.
std::string build_spec_json(const BuildSpec& s);
// d as its build will see it: the live record with `spec` over it.
DocumentRecord with_spec(DocumentRecord d, const BuildSpec& s);
// d as its build will see it, from its own `pending` column (the live record when there is none).
DocumentRecord as_built(DocumentRecord d);

// The assignments (for "UPDATE documents SET …") that make a pending build's record live.
extern const std::string_view kApplyPendingSql;
// The assignments that end a build without making it live: the document is back on its live
// generation ('ready', with that generation's counts), or 'failed' when it never had one.
extern const std::string_view kEndBuildSql;

struct ClaimRequest {
  std::string uid;
  BuildSpec spec;
  std::optional<std::string> job_id;          // the job that will build it, when known
  std::optional<int64_t> require_generation;  // only while this generation is live (reindex)
};
// The generation claimed, or nullopt when the document is busy with another build (or gone).
Task<Result<std::optional<int64_t>>> claim_next_generation(Ctx& ctx, ClaimRequest req);

ApiError document_busy_error();

}  // namespace ec
