// Reading the knowledge graph back: a document's live-generation graph, and entity lookup across
// a user's documents. Writing happens inside the ingest commit (rag/ingest.cpp).
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <cstdint>
#include <string>

namespace ec {

// {"entities":[…],"relations":[…]} of one generation of a document (routes ask for the live one).
Task<Result<json>> document_graph(Ctx& ctx, std::string doc_uid, int64_t generation);

// Entities whose name contains q (case-insensitive; empty q lists the most mentioned), with the
// documents they appear in: [{name, type, mentions, documents:[{id,title}]}], at most `limit`.
Task<Result<json>> find_entities(Ctx& ctx, std::string user_id, std::string q, size_t limit);

}  // namespace ec
