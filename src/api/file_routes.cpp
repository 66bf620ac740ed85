// Canonical files API (seed 004's file service): /api/v1/files*.
#include "api/caller.hpp"
#include "api/gateway.hpp"
#include "api/routes.hpp"
#include "auth/service.hpp"
#include "extract/document.hpp"
#include "extract/text.hpp"
#include "files/file_service.hpp"
#include "index/lexical_embedder.hpp"
#include "text/llm_text.hpp"
#include "text/summarize.hpp"

namespace ec {

namespace {

const Schema kUploadQuery = {
    field("filename")
        .string()
        .describe("The file's name when the body is raw bytes (X-Filename works too)"),
};

std::optional<std::string> filename_hint(const Call& call) {
  if (const std::string* q = call.query_param("filename")) return *q;
  if (const std::string* h = call.header("x-filename")) return *h;
  return std::nullopt;
}

Task<Result<Response>> do_upload(Call& call) {
  const User& user = signed_in(call);
  Result<FileRecord> f = co_await upload_file(call.ctx, user, call.ctx.route, filename_hint(call));
  if (!f.ok()) co_return f.take_error();
  co_return json_reply(201, {{"file", file_json(f.value())}});
}

Task<Result<FileRecord>> owned_file(Call& call) {
  const User& user = signed_in(call);
  co_return co_await find_file(call.ctx, user.id, *call.param("id"));
}

Task<Result<Response>> do_get(Call& call) {
  Result<FileRecord> f = co_await owned_file(call);
  if (!f.ok()) co_return f.take_error();
  co_return json_reply(200, {{"file", file_json(f.value())}});
}

Task<Result<Response>> do_download(Call& call) {
  Result<FileRecord> f = co_await owned_file(call);
  if (!f.ok()) co_return f.take_error();
  co_return co_await download_file(call.ctx, std::move(f.value()));
}

Task<Result<Response>> do_delete(Call& call) {
  Result<FileRecord> f = co_await owned_file(call);
  if (!f.ok()) co_return f.take_error();
  Status s = co_await delete_file(call.ctx, std::move(f.value()));
  if (!s.ok()) co_return s.take_error();
  co_return no_content(204);
}

// Extracts the file's text and summarises it: with the configured LLM when there is one, else
// with the local extractive summariser. The reply says which one answered.
Task<Result<Response>> do_analyze(Call& call) {
  Result<FileRecord> f = co_await owned_file(call);
  if (!f.ok()) co_return f.take_error();
  if (f.value().size > static_cast<int64_t>(kMaxExtractBytes)) {
    co_return api_error(Err::extract_too_large, "The file is too large to analyse");
  }
  Result<std::string> bytes =
      co_await read_file_bytes(call.ctx, f.value(), static_cast<int64_t>(kMaxExtractBytes));
  if (!bytes.ok()) co_return bytes.take_error();
  Result<ExtractedText> text = co_await extract_document(
      call.ctx, std::move(bytes.value()), f.value().content_type, f.value().filename);
  if (!text.ok()) co_return text.take_error();
  const std::string& t = text.value().text;
  json summarizer;
  std::string summary;
  if (llm_configured(call.ctx)) {
    Result<LlmText> llm = co_await complete_text(call.ctx, "You write faithful, concise summaries.",
                                                 summary_prompt(t), 400);
    if (llm.ok()) {
      summary = llm.value().text;
      summarizer = {{"provider", llm.value().provider}, {"model", llm.value().model}};
    }
  }
  if (summary.empty()) {
    summary = summarize_extractive(t);
    summarizer = {{"provider", "local"}, {"model", "edgechat-extractive-v1"}};
  }
  json headings = json::array();
  for (const Heading& h : text.value().headings) {
    if (headings.size() == 50) break;
    headings.push_back({{"level", h.level}, {"title", h.title}});
  }
  size_t words = lexical_words(t).size();
  co_return json_reply(200, {{"file", file_json(f.value())},
                             {"analysis",
                              {{"format", text.value().format},
                               {"bytes", t.size()},
                               {"words", words},
                               {"headings", headings},
                               {"keywords", top_keywords(t, 10)},
                               {"summary", summary},
                               {"summarizer", summarizer}}}});
}

}  // namespace

bool add_file_routes(HttpApp& app) {
  const auto upload = [](std::string_view pattern, std::string_view summary) {
    return post(pattern, do_upload)
        .user()
        .query(kUploadQuery)
        .takes("application/octet-stream")
        .doc(summary, {"Files"})
        .details(
            "The body is the file's bytes (its Content-Type is the file's; name it with "
            "?filename= or X-Filename), or a multipart/form-data form with a `file` part.")
        .answers(201, "FileEnvelope")
        .errors({"files.too_large", "files.unsupported_type", "files.missing_file",
                 "files.bad_upload", "files.invalid_filename", "storage.unavailable",
                 "storage.conflict"});
  };
  return add_routes(
      app,
      {
          upload("/api/v1/files", "Upload a file"),
          upload("/api/v1/files/upload", "Upload a file (seed 004's spelling)"),
          get("/api/v1/files/:id", do_get)
              .user()
              .owns("file")
              .doc("Get a file's metadata", {"Files"})
              .answers(200, "FileEnvelope")
              .errors({"files.not_found", "storage.unavailable"}),
          get("/api/v1/files/:id/download", do_download)
              .user()
              .owns("file")
              .doc("Download a file (Range requests answer 206)", {"Files"})
              .answers(200, "FileBytes", "application/octet-stream")
              .answers(206, "FileBytes", "application/octet-stream")
              .errors({"files.not_found", "files.range_not_satisfiable", "storage.unavailable"}),
          del("/api/v1/files/:id", do_delete)
              .user()
              .owns("file")
              .doc("Delete a file", {"Files"})
              .answers(204, "")
              .errors({"files.not_found", "storage.unavailable"}),
          post("/api/v1/files/:id/analyze", do_analyze)
              .user()
              .rate(kRateAi)
              .owns("file")
              .doc("Extract a file's text and summarise it", {"Files"})
              .answers(200, "FileAnalysis")
              .errors({"files.not_found", "extract.too_large", "extract.unsupported_format",
                       "extract.binary", "extract.encrypted", "extract.malformed",
                       "extract.no_text", "storage.unavailable"}),
      });
}

}  // namespace ec
