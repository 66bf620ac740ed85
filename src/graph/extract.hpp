// Knowledge-graph extraction for ingested documents: entities (named things) and relations between
// them. Two sources produce the same Graph:
//   - an LLM, prompted with graph_extraction_prompt and its reply checked by parse_llm_graph, which
//     treats the reply as untrusted input (it may be wrapped in prose, truncated or invented);
//   - extract_graph_local, a deterministic heuristic used when no LLM is configured. It finds
//     capitalised phrases and acronyms, not meaning: expect some noise, and no entity that is
//     written in lower case.
#pragma once

#include "core/error.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ec {

struct GraphEntity {
  std::string name;  // as first written in the document, whitespace collapsed
  std::string type;  // person | organization | place | concept | other
  int mentions = 0;
};

struct GraphRelation {
  std::string source;    // GraphEntity::name of an entity in the same Graph
  std::string target;    // likewise; never equal to source
  std::string relation;  // lower case, words joined by '_' ("founded", "works_at", "related_to")
  float weight = 0;      // co-occurrence count (local) or 1 (LLM)
};

struct Graph {
  std::vector<GraphEntity> entities;  // most mentioned first, then in order of first mention
  std::vector<GraphRelation> relations;
};

// Only this many leading bytes are scanned by extract_graph_local (cut on a code-point boundary):
// a graph of at most a few hundred items is well sampled by the first 64 KiB, and the bound keeps
// a multi-MB upload from costing proportionally more CPU. The scan is one synchronous call that
// holds the isolate (256 KiB took 88 ms in Wasm on local workerd): 64 KiB keeps it near one slice
// of the ingest's cooperative scheduling (bindings/sched.hpp).
inline constexpr size_t kMaxGraphInputBytes = 64 * 1024;
inline constexpr size_t kMaxEntityNameBytes = 200;
inline constexpr size_t kMaxRelationLabelBytes = 64;
inline constexpr size_t kGraphPromptTextBytes = 6000;

// Local extraction (see the file comment). Entities: runs of capitalised words, which may contain
// "of", "for", "the", "de", "van", "von"… and "&" ("Bank of America", "Procter & Gamble"), and
// acronyms ("NASA"); leading function words and titles are dropped ("The", "In", "Dr."), and a
// lone capitalised word at the start of a sentence counts only if the document never writes it in
// lower case. Names are deduplicated case-insensitively (ASCII, Latin-1, Latin Extended-A, Greek,
// Cyrillic). Type: organisation suffix (Inc, Ltd, University…) > person (title, common first name,
// "… said") > place ("in/at/from X", City, River…) > concept.
// Relations: each mention is paired with the next 8 mentions in its sentence; the label is the
// 1-3 lower-case words between them when they are not all function words, else "related_to";
// weight counts the sentences/pairs that produced the same (source, target, label).
// Deterministic; runs in time linear in min(text.size(), kMaxGraphInputBytes).
Graph extract_graph_local(std::string_view text, size_t max_entities = 50,
                          size_t max_relations = 100);

// Instruction text (system and user part in one) asking an LLM for ONLY a JSON object
// {"entities":[{"name","type"}],"relations":[{"source","target","relation"}]} describing text,
// which is cut to kGraphPromptTextBytes on a code-point boundary and fenced as data.
std::string graph_extraction_prompt(std::string_view text);

// Validates an LLM reply. Accepts the first JSON object in it that has an "entities" member, so
// ```json fences and surrounding prose are tolerated. Invalid items are dropped, not fatal:
// entities need a non-empty "name" of at most kMaxEntityNameBytes of valid UTF-8 (whitespace
// collapsed, surrounding quotes/brackets trimmed); "type" is mapped onto the five types (unknown
// or missing: "other"); relations need "source" and "target" naming two different kept entities
// (case-insensitive; the entity's spelling is used) and a "relation" label that normalises
// (lower-cased ASCII, whitespace runs to '_') to 1..kMaxRelationLabelBytes bytes. Duplicates are
// dropped, the first max_entities / max_relations kept; mentions = 1, weight = 1.
// 422 "graph.invalid_llm_output" when no JSON object parses or none has an "entities" array.
Result<Graph> parse_llm_graph(std::string_view llm_output, size_t max_entities = 50,
                              size_t max_relations = 100);

// {"entities":[{"name","type","mentions"}],"relations":[{"source","target","relation","weight"}]}
json graph_json(const Graph& graph);

}  // namespace ec
