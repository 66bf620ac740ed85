// Training examples (seed 002): /api/v1/training-examples*, and their export as OpenAI
// fine-tuning JSONL. The router prefers a literal segment to a param, so ".../export" never
// reaches the ":id" routes (tests/native/test_router.cpp).
#include "api/caller.hpp"
#include "api/gateway.hpp"
#include "api/paging.hpp"
#include "api/routes.hpp"
#include "auth/service.hpp"
#include "chat/training.hpp"

namespace ec {

namespace {

// A prompt may carry a whole RAG context: the body limit is sized for the largest example
// (kMaxTrainingInputBytes + kMaxTrainingOutputBytes) after JSON escaping.
constexpr size_t kCreateBodyLimit = size_t{4} << 20;

Result<std::string> source_param(const Call& call) {
  return choice_param(call, "source", {"rag_chat", "agent_simulation", "prompt_lab"});
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
  Result<size_t> limit = limit_param(call, 20, 100);
  if (!limit.ok()) co_return limit.take_error();
  q.limit = limit.value();
  Result<std::string> source = source_param(call);
  if (!source.ok()) co_return source.take_error();
  q.source = std::move(source.value());
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
  Result<size_t> limit = limit_param(call, opt.max_examples, opt.max_examples);
  if (!limit.ok()) co_return limit.take_error();
  opt.max_examples = limit.value();
  Result<std::string> source = source_param(call);
  if (!source.ok()) co_return source.take_error();
  opt.source = std::move(source.value());
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

bool add_training_routes(HttpApp& app) {
  return add_routes(
      app, {
               post("/api/v1/training-examples", do_create).user().json().limit(kCreateBodyLimit),
               get("/api/v1/training-examples", do_list).user(),
               get("/api/v1/training-examples/export", do_export).user(),
               get("/api/v1/training-examples/:id", do_get).user(),
               del("/api/v1/training-examples/:id", do_delete).user(),
           });
}

}  // namespace ec
