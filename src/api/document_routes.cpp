// Canonical documents, search and graph API: /api/v1/documents*, /api/v1/search, /api/v1/graph/*.
#include "api/caller.hpp"
#include "api/gateway.hpp"
#include "api/ingest_schema.hpp"
#include "api/routes.hpp"
#include "auth/service.hpp"
#include "graph/store.hpp"
#include "rag/documents.hpp"
#include "rag/search.hpp"

namespace ec {

namespace {

// Ingest bodies carry whole documents: they get their own limit (INGEST_BODY_LIMIT_BYTES would
// be the knob; 10 MiB covers any text a client should send inline instead of uploading a file).
constexpr size_t kIngestBodyLimit = size_t{10} << 20;

const Schema kListQuery = {
    field("limit").integer().min(1).max(100).describe("Page size (default 20)"),
    field("cursor").string().describe("nextCursor of the previous page"),
    field("title").string().describe("A case-insensitive substring of the title"),
    field("metadata")
        .string()
        .describe("A JSON object of metadata filters (or metadata.<key>=<value> parameters)"),
};

const Schema kSearchSchema = {
    field("query").string().required().min(1).max(2000),
    field("topK").integer().nullable().min(1).max(50),
    field("threshold").number().nullable().min(-1).max(1),
    field("mode").one_of({"vector", "keyword", "hybrid"}).nullable(),
    field("documentIds").array().nullable().max_items(50),
    field("metadata").object().nullable().describe("Filters: {key: string | number | boolean}"),
    field("filter").object().nullable().describe("Same as metadata"),
};

const Schema kEntitiesQuery = {
    field("q").string().max(200).describe("A case-insensitive substring of the entity's name"),
};

Task<Result<Response>> do_create(Call& call) {
  const User& user = signed_in(call);
  Result<IngestRequest> req = parse_ingest_request(call.body);
  if (!req.ok()) co_return req.take_error();
  Result<IngestStarted> started = co_await start_ingest(call.ctx, user, std::move(req.value()));
  if (!started.ok()) co_return started.take_error();
  const DocumentRecord& d = started.value().doc;
  Response r = json_reply(started.value().finished ? 201 : 202, {{"document", document_json(d)}});
  r.headers.emplace_back("location", "/api/v1/documents/" + d.id);
  co_return r;
}

Task<Result<DocumentRecord>> owned_document(Call& call) {
  const User& user = signed_in(call);
  co_return co_await find_document(call.ctx, user.id, *call.param("id"));
}

Task<Result<Response>> do_get(Call& call) {
  Result<DocumentRecord> d = co_await owned_document(call);
  if (!d.ok()) co_return d.take_error();
  json body = document_json(d.value());
  body["preview"] = d.value().preview;
  co_return json_reply(200, {{"document", body}});
}

Task<Result<Response>> do_delete(Call& call) {
  Result<DocumentRecord> d = co_await owned_document(call);
  if (!d.ok()) co_return d.take_error();
  Status s = co_await delete_document(call.ctx, std::move(d.value()));
  if (!s.ok()) co_return s.take_error();
  co_return no_content(204);
}

Result<DocumentQuery> parse_list_query(const Call& call) {
  DocumentQuery q;
  q.limit = static_cast<size_t>(call.query_int("limit", 20));
  if (const std::string* c = call.query_param("cursor")) q.cursor = *c;
  if (const std::string* t = call.query_param("title")) q.title = *t;
  // Metadata filters as ?metadata.<key>=<value> (string comparison) or ?metadata=<json object>.
  json filter = json::object();
  for (const auto& [k, v] : call.query) {
    if (k.rfind("metadata.", 0) == 0) filter[k.substr(9)] = v;
  }
  if (const std::string* m = call.query_param("metadata")) {
    std::optional<json> parsed = parse_json(*m, 8);
    if (!parsed || !parsed->is_object()) {
      return field_error("metadata", "a JSON object");
    }
    for (const auto& [k, v] : parsed->items()) filter[k] = v;
  }
  Result<std::vector<std::pair<std::string, json>>> f = parse_metadata_filter(filter);
  if (!f.ok()) return f.take_error();
  q.metadata = std::move(f.value());
  return q;
}

Task<Result<Response>> do_list(Call& call) {
  const User& user = signed_in(call);
  Result<DocumentQuery> q = parse_list_query(call);
  if (!q.ok()) co_return q.take_error();
  Result<DocumentPage> page = co_await list_documents(call.ctx, user.id, std::move(q.value()));
  if (!page.ok()) co_return page.take_error();
  json items = json::array();
  for (const DocumentRecord& d : page.value().items) items.push_back(document_json(d));
  co_return json_reply(
      200, {{"documents", items},
            {"nextCursor",
             page.value().next_cursor.empty() ? json(nullptr) : json(page.value().next_cursor)}});
}

Task<Result<Response>> do_search(Call& call) {
  const User& user = signed_in(call);
  Result<SearchRequest> req = parse_search_request(call.body);
  if (!req.ok()) co_return req.take_error();
  const SearchMode mode = req.value().mode;
  Result<SearchResult> res = co_await search_chunks(call.ctx, user.id, std::move(req.value()));
  if (!res.ok()) co_return res.take_error();
  json hits = json::array();
  for (const SearchHit& h : res.value().hits) hits.push_back(search_hit_json(h));
  json body = {
      {"results", hits},
      {"mode", mode == SearchMode::kVector    ? "vector"
               : mode == SearchMode::kKeyword ? "keyword"
                                              : "hybrid"},
      {"embeddingModel",
       res.value().embedding_model.empty() ? json(nullptr) : json(res.value().embedding_model)}};
  if (!res.value().notes.empty()) body["notes"] = res.value().notes;
  co_return json_reply(200, body);
}

Task<Result<Response>> do_graph(Call& call) {
  Result<DocumentRecord> d = co_await owned_document(call);
  if (!d.ok()) co_return d.take_error();
  Result<json> g = co_await document_graph(call.ctx, d.value().uid, d.value().generation);
  if (!g.ok()) co_return g.take_error();
  co_return json_reply(200, {{"documentId", d.value().id}, {"graph", g.value()}});
}

Task<Result<Response>> do_entities(Call& call) {
  const User& user = signed_in(call);
  const std::string* q = call.query_param("q");
  Result<json> found = co_await find_entities(call.ctx, user.id, q ? *q : "", 50);
  if (!found.ok()) co_return found.take_error();
  co_return json_reply(200, {{"entities", found.value()}});
}

}  // namespace

bool add_document_routes(HttpApp& app) {
  return add_routes(
      app,
      {
          post("/api/v1/documents", do_create)
              .user()
              .json(kIngestSchema)
              .limit(kIngestBodyLimit)
              .doc("Ingest a document (text or an uploaded file)", {"Documents"})
              .details("Small inputs are built in the request (201); larger ones are queued as "
                       "an ingest job (202, the document's `job` tracks it).")
              .answers(201, "DocumentEnvelope")
              .answers(202, "DocumentEnvelope")
              .errors(kIngestErrors),
          get("/api/v1/documents", do_list)
              .user()
              .query(kListQuery)
              .doc("List your documents, newest first", {"Documents"})
              .answers(200, "DocumentPage")
              .errors({"storage.unavailable"}),
          get("/api/v1/documents/:id", do_get)
              .user()
              .owns("document")
              .doc("Get a document", {"Documents"})
              .answers(200, "DocumentWithPreviewEnvelope")
              .errors({"documents.not_found", "storage.unavailable"}),
          del("/api/v1/documents/:id", do_delete)
              .user()
              .owns("document")
              .doc("Delete a document, its chunks, vectors and graph", {"Documents"})
              .answers(204, "")
              .errors({"documents.not_found", "storage.unavailable"}),
          get("/api/v1/documents/:id/graph", do_graph)
              .user()
              .owns("document")
              .doc("A document's knowledge graph", {"Documents"})
              .answers(200, "DocumentGraph")
              .errors({"documents.not_found", "storage.unavailable"}),
          post("/api/v1/search", do_search)
              .user()
              .rate(kRateAi)
              .json(kSearchSchema)
              .doc("Search your documents (vector, keyword or hybrid)", {"Search"})
              .answers(200, "SearchResults")
              .errors({"storage.unavailable", "ai.unavailable", "ai.bad_reply"}),
          get("/api/v1/graph/entities", do_entities)
              .user()
              .query(kEntitiesQuery)
              .doc("Find entities across your documents' graphs", {"Documents"})
              .answers(200, "EntityList")
              .errors({"storage.unavailable"}),
      });
}

}  // namespace ec
