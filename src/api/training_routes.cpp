// Training examples (seed 002): /api/v1/training-examples*, and their export as OpenAI
// fine-tuning JSONL. The router prefers a literal segment to a param, so ".../export" never
// reaches the ":id" routes (tests/native/test_router.cpp).
#include "api/caller.hpp"
#include "api/gateway.hpp"
#include "api/routes.hpp"
#include "auth/service.hpp"
#include "chat/training.hpp"

namespace ec {

namespace {

// A prompt may carry a whole RAG context: the body limit is sized for the largest example
// (kMaxTrainingInputBytes + kMaxTrainingOutputBytes) after JSON escaping.
constexpr size_t kCreateBodyLimit = size_t{4} << 20;

const Schema kListQuery = {
    field("limit").integer().length(1, 100).describe("Examples per page (default 20)"),
    field("source")
        .one_of({"rag_chat", "agent_simulation", "prompt_lab"})
        .describe("Only examples from this source"),
    field("cursor").string().describe("nextCursor of the previous page"),
};

const Schema kExportQuery = {
    field("limit")
        .integer()
        .length(1, static_cast<int64_t>(ExportOptions{}.max_examples))
        .describe("At most this many examples (default and maximum 10000)"),
    field("source")
        .one_of({"rag_chat", "agent_simulation", "prompt_lab"})
        .describe("Only examples from this source"),
    field("cursor").string().describe("X-Export-Next-Cursor of a truncated export"),
};

std::string source_of(const Call& call) {
  const std::string* s = call.query_param("source");
  return s ? *s : "";
}

Task<Result<Response>> do_create(Call& call) {
  const User& user = signed_in(call);
  Result<TrainingExample> ex = parse_training_example(call.body, user.id);
  if (!ex.ok()) co_return ex.take_error();
  Result<TrainingRecord> r = co_await create_training_example(call.ctx, std::move(ex.value()));
  if (!r.ok()) co_return r.take_error();
  Response out = json_reply(201, {{"example", training_example_json(r.value())}});
  out.headers.emplace_back("location", "/api/v1/training-examples/" + r.value().id);
  co_return out;
}

Task<Result<Response>> do_list(Call& call) {
  const User& user = signed_in(call);
  TrainingQuery q;
  q.limit = static_cast<size_t>(call.query_int("limit", 20));
  q.source = source_of(call);
  if (const std::string* c = call.query_param("cursor")) q.cursor = *c;
  Result<TrainingPage> page = co_await list_training_examples(call.ctx, user.id, std::move(q));
  if (!page.ok()) co_return page.take_error();
  json items = json::array();
  for (const TrainingSummary& s : page.value().items) items.push_back(training_summary_json(s));
  const std::string& next = page.value().next_cursor;
  co_return json_reply(
      200, {{"examples", items}, {"nextCursor", next.empty() ? json(nullptr) : json(next)}});
}

Task<Result<Response>> do_export(Call& call) {
  const User& user = signed_in(call);
  ExportOptions opt;
  opt.max_examples =
      static_cast<size_t>(call.query_int("limit", static_cast<int64_t>(opt.max_examples)));
  opt.source = source_of(call);
  if (const std::string* c = call.query_param("cursor")) opt.cursor = *c;
  const std::string filename =
      "training-examples" + (opt.source.empty() ? "" : "-" + opt.source) + ".jsonl";
  Result<TrainingExport> ex = co_await export_training_jsonl(call.ctx, user.id, std::move(opt));
  if (!ex.ok()) co_return ex.take_error();
  Response r;
  r.status = 200;
  r.headers.emplace_back("content-type", "application/jsonl; charset=utf-8");
  r.headers.emplace_back("content-disposition", "attachment; filename=\"" + filename + "\"");
  r.headers.emplace_back("x-export-count", std::to_string(ex.value().count));
  r.headers.emplace_back("x-export-truncated", ex.value().truncated ? "true" : "false");
  if (ex.value().truncated) r.headers.emplace_back("x-export-next-cursor", ex.value().next_cursor);
  r.body = std::move(ex.value().body);
  co_return r;
}

Task<Result<TrainingRecord>> owned_example(Call& call) {
  const User& user = signed_in(call);
  co_return co_await find_training_example(call.ctx, user.id, *call.param("id"));
}

Task<Result<Response>> do_get(Call& call) {
  Result<TrainingRecord> r = co_await owned_example(call);
  if (!r.ok()) co_return r.take_error();
  co_return json_reply(200, {{"example", training_example_json(r.value())}});
}

Task<Result<Response>> do_delete(Call& call) {
  Result<TrainingRecord> r = co_await owned_example(call);
  if (!r.ok()) co_return r.take_error();
  Status gone = co_await delete_training_example(call.ctx, std::move(r.value()));
  if (!gone.ok()) co_return gone.take_error();
  co_return no_content(204);
}

}  // namespace

// The create body is validated by the training service's own schema and checks
// (chat/training.cpp), which the seed adapters share.
bool add_training_routes(HttpApp& app) {
  return add_routes(
      app,
      {
          post("/api/v1/training-examples", do_create)
              .user()
              .json()
              .limit(kCreateBodyLimit)
              .doc("Record a training example (chat messages and the ideal output)", {"Training"})
              .answers(201, "TrainingExampleEnvelope")
              .errors({"storage.unavailable", "storage.conflict", "storage.value_too_large"}),
          get("/api/v1/training-examples", do_list)
              .user()
              .query(kListQuery)
              .doc("List your training examples, newest first", {"Training"})
              .answers(200, "TrainingExamplePage")
              .errors({"storage.unavailable"}),
          get("/api/v1/training-examples/export", do_export)
              .user()
              .query(kExportQuery)
              .doc("Export your training examples as OpenAI fine-tuning JSONL", {"Training"})
              .answers(200, "TrainingJsonl", "application/jsonl")
              .errors({"storage.unavailable"}),
          get("/api/v1/training-examples/:id", do_get)
              .user()
              .owns("training_example")
              .doc("Get a training example", {"Training"})
              .answers(200, "TrainingExampleEnvelope")
              .errors({"training.not_found", "storage.unavailable"}),
          del("/api/v1/training-examples/:id", do_delete)
              .user()
              .owns("training_example")
              .doc("Delete a training example", {"Training"})
              .answers(204, "")
              .errors({"training.not_found", "storage.unavailable"}),
      });
}

}  // namespace ec
