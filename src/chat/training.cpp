#include "chat/training.hpp"

#include "bindings/d1.hpp"
#include "core/ascii.hpp"
#include "core/json.hpp"
#include "core/time.hpp"
#include "core/utf8.hpp"
#include "crypto/random_id.hpp"
#include "http/page_cursor.hpp"
#include "http/validate.hpp"

namespace ec {

namespace {

constexpr std::string_view kColumns =
    "id, user_id, source, model_used, input, output, metadata, timestamp";
constexpr size_t kMaxModelBytes = 200;

const Schema kCreateSchema = {
    field("source").string().required().one_of({"rag_chat", "agent_simulation", "prompt_lab"}),
    field("output").string().required(),
    field("messages").array().nullable(),
    field("input").object().nullable(),
    field("model").string().nullable(),
    field("modelUsed").string().nullable(),
    field("metadata").object().nullable(),
};

bool is_prompt_role(std::string_view r) { return r == "system" || r == "user" || r == "assistant"; }
bool is_source(std::string_view s) {
  return s == "rag_chat" || s == "agent_simulation" || s == "prompt_lab";
}

ApiError not_found() { return api_error(Err::training_not_found); }

json opt_string(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

json object_column(const json& row, std::string_view key) {
  if (std::optional<json> v = parse_json(string_or(row, key, ""))) {
    if (v->is_object()) return std::move(*v);
  }
  return json::object();
}

TrainingRecord record_from_row(const json& row) {
  TrainingRecord r;
  r.id = string_or(row, "id", "");
  r.user_id = string_or(row, "user_id", "");
  r.source = string_or(row, "source", "");
  r.model_used = string_or(row, "model_used", "");
  json input = object_column(row, "input");
  if (const json* m = get_array(input, "messages")) r.messages = *m;
  r.output = string_or(row, "output", "");
  r.metadata = object_column(row, "metadata");
  r.created_ms = get_int(row, "timestamp").value_or(0);
  return r;
}

// Problems with the messages, or nullopt. Messages are checked one by one so the client learns
// which one is wrong.
std::optional<std::string> messages_problem(const json& m) {
  if (!m.is_array()) return "must be an array of {role, content}";
  if (m.empty()) return "must hold at least one message";
  if (m.size() > kMaxTrainingMessages) return "at most 500 messages";
  size_t i = 0;
  for (const json& msg : m) {
    const std::string at = "message " + std::to_string(i++) + ": ";
    if (!msg.is_object()) return at + "must be an object {role, content}";
    const std::string* role = get_string(msg, "role");
    if (role == nullptr || !is_prompt_role(*role)) {
      return at + "role must be system, user or assistant";
    }
    if (get_string(msg, "content") == nullptr) return at + "content must be a string";
  }
  if (dump_json(m).size() > kMaxTrainingInputBytes) return "at most 512 KiB as JSON";
  return std::nullopt;
}

// Only {role, content} is kept: it is all the export writes, and all a reader can rely on.
json normalized_messages(const json& m) {
  json out = json::array();
  for (const json& msg : m) {
    out.push_back(
        {{"role", string_or(msg, "role", "")}, {"content", string_or(msg, "content", "")}});
  }
  return out;
}

// A JSON string for a JSONL line. Besides what JSON requires, it escapes U+0085, U+2028 and
// U+2029: line-oriented readers (Python's str.splitlines, some editors) break lines there, which
// would split one example across two "lines". Invalid bytes become U+FFFD.
void append_jsonl_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    const size_t n = decode_utf8(s, i, cp);
    if (cp == '"' || cp == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x20 || cp == 0x85 || cp == 0x2028 || cp == 0x2029) {
      out.append("\\u");
      for (int shift = 12; shift >= 0; shift -= 4) out.push_back(kHex[(cp >> shift) & 0xF]);
    } else if (cp == kUtf8Invalid) {
      append_utf8(out, cp);
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  out.push_back('"');
}

void append_message(std::string& line, std::string_view role, std::string_view content) {
  line.append("{\"role\":");
  append_jsonl_string(line, role);
  line.append(",\"content\":");
  append_jsonl_string(line, content);
  line.push_back('}');
}

// The filter every export query shares: the user, maybe a source, and "after" a position.
struct ExportFilter {
  std::string sql;
  json params;
};
ExportFilter export_filter(const std::string& user_id, const std::string& source,
                           const std::optional<PageCursor>& after) {
  ExportFilter f{"user_id = ?1", json::array({user_id})};
  if (!source.empty()) {
    f.params.push_back(source);
    f.sql += " AND source = ?2";
  }
  if (after) {
    f.params.push_back(after->time_ms);
    f.params.push_back(after->id);
    const std::string t = "?" + std::to_string(f.params.size() - 1);
    const std::string id = "?" + std::to_string(f.params.size());
    f.sql += " AND (timestamp > " + t + " OR (timestamp = " + t + " AND id > " + id + "))";
  }
  return f;
}

}  // namespace

json training_example_json(const TrainingRecord& r) {
  return {{"id", r.id},
          {"source", r.source},
          {"model", opt_string(r.model_used)},
          {"messages", r.messages},
          {"output", r.output},
          {"metadata", r.metadata},
          {"createdAt", iso8601_ms(r.created_ms)}};
}

json training_summary_json(const TrainingSummary& s) {
  return {{"id", s.id},
          {"source", s.source},
          {"model", opt_string(s.model_used)},
          {"metadata", s.metadata},
          {"messageCount", s.message_count},
          {"outputPreview", s.output_preview},
          {"createdAt", iso8601_ms(s.created_ms)}};
}

Status check_training_example(const TrainingExample& ex) {
  json fields = json::object();
  if (!is_source(ex.source))
    fields["source"] = "must be one of rag_chat, agent_simulation, prompt_lab";
  if (std::optional<std::string> p = messages_problem(ex.messages)) fields["messages"] = *p;
  if (ex.output.size() > kMaxTrainingOutputBytes) fields["output"] = "at most 131072 bytes";
  if (ex.model_used.size() > kMaxModelBytes) fields["model"] = "at most 200 bytes";
  if (!ex.metadata.is_object()) {
    fields["metadata"] = "must be an object";
  } else if (dump_json(ex.metadata).size() > kMaxTrainingMetadataBytes) {
    fields["metadata"] = "at most 16 KiB as JSON";
  }
  if (fields.empty()) return ok_status();
  ApiError e = api_error(Err::validation_failed, "The training example is invalid");
  e.fields = std::move(fields);
  return e;
}

Result<TrainingExample> parse_training_example(const json& body, std::string user_id) {
  Status ok = validate(body, kCreateSchema);
  if (!ok.ok()) return ok.take_error();
  const json* messages = get_array(body, "messages");
  const json* input = get_object(body, "input");
  const json* nested = input != nullptr ? find(*input, "messages") : nullptr;
  if (messages != nullptr && nested != nullptr) {
    return field_error("messages", "give messages or input.messages, not both");
  }
  if (messages == nullptr && nested == nullptr) {
    return field_error("messages", "is required (or input.messages)");
  }
  TrainingExample ex;
  ex.user_id = std::move(user_id);
  ex.source = string_or(body, "source", "");
  ex.model_used = string_or(body, "model", string_or(body, "modelUsed", ""));
  ex.messages = messages != nullptr ? *messages : *nested;
  ex.output = string_or(body, "output", "");
  if (const json* meta = get_object(body, "metadata")) ex.metadata = *meta;
  Status checked = check_training_example(ex);
  if (!checked.ok()) return checked.take_error();
  return ex;
}

Task<Result<TrainingRecord>> create_training_example(Ctx& ctx, TrainingExample ex) {
  Status ok = check_training_example(ex);
  if (!ok.ok()) co_return ok.take_error();
  TrainingRecord r;
  r.id = co_await new_id(ctx, "trn_");
  r.user_id = std::move(ex.user_id);
  r.source = std::move(ex.source);
  r.model_used = std::move(ex.model_used);
  r.messages = normalized_messages(ex.messages);
  r.output = std::move(ex.output);
  r.metadata = std::move(ex.metadata);
  r.created_ms = static_cast<int64_t>(ctx.now_ms());
  Result<RunMeta> ins = co_await d1_run(
      ctx,
      Stmt("INSERT INTO training_examples (id, user_id, source, model_used, input, output, "
           "metadata, timestamp) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
           {r.id, r.user_id, r.source, opt_string(r.model_used),
            dump_json({{"messages", r.messages}}), r.output, dump_json(r.metadata), r.created_ms}));
  if (!ins.ok()) co_return ins.take_error();
  co_return r;
}

Task<Status> record_training_example(Ctx& ctx, TrainingExample ex) {
  Result<TrainingRecord> r = co_await create_training_example(ctx, std::move(ex));
  if (!r.ok()) co_return r.take_error();
  co_return ok_status();
}

bool training_capture_enabled(Ctx& ctx, bool request_opt_in) {
  if (request_opt_in) return true;
  // Anything but "all" (after trimming, any case) is off: capture is opt-in, never by accident.
  std::string_view v = ctx.env("TRAINING_CAPTURE", "off");
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return ascii_iequals(v, "all");
}

Task<Result<TrainingRecord>> find_training_example(Ctx& ctx, std::string user_id, std::string id) {
  if (id.empty() || id.size() > 128) co_return not_found();
  Result<json> row =
      co_await d1_first(ctx, Stmt("SELECT " + std::string(kColumns) +
                                      " FROM training_examples WHERE user_id = ?1 AND id = ?2",
                                  {user_id, id}));
  if (!row.ok()) co_return row.take_error();
  if (row.value().is_null()) co_return not_found();
  co_return record_from_row(row.value());
}

Task<Status> delete_training_example(Ctx& ctx, TrainingRecord r) {
  Result<RunMeta> del = co_await d1_run(
      ctx, Stmt("DELETE FROM training_examples WHERE id = ?1 AND user_id = ?2", {r.id, r.user_id}));
  if (!del.ok()) co_return del.take_error();
  co_return ok_status();
}

Task<Result<TrainingPage>> list_training_examples(Ctx& ctx, std::string user_id, TrainingQuery q) {
  json params = json::array({user_id});
  std::string sql =
      "SELECT id, source, model_used, metadata, CASE WHEN json_valid(input) THEN "
      "json_array_length(input, '$.messages') ELSE 0 END AS message_count, substr(output, 1, "
      "200) AS output_preview, timestamp FROM training_examples WHERE user_id = ?1";
  if (!q.cursor.empty()) {
    std::optional<PageCursor> c = decode_page_cursor(q.cursor);
    if (!c) co_return field_error("cursor", "not a cursor from this API");
    params.push_back(c->time_ms);
    params.push_back(c->id);
    sql += " AND (timestamp < ?2 OR (timestamp = ?2 AND id < ?3))";
  }
  if (!q.source.empty()) {
    params.push_back(q.source);
    sql += " AND source = ?" + std::to_string(params.size());
  }
  sql += " ORDER BY timestamp DESC, id DESC LIMIT " + std::to_string(q.limit + 1);
  Result<std::vector<json>> rows = co_await d1_all(ctx, Stmt(sql, params));
  if (!rows.ok()) co_return rows.take_error();
  TrainingPage page;
  for (const json& row : rows.value()) {
    TrainingSummary s;
    s.id = string_or(row, "id", "");
    s.source = string_or(row, "source", "");
    s.model_used = string_or(row, "model_used", "");
    s.metadata = object_column(row, "metadata");
    s.message_count = get_int(row, "message_count").value_or(0);
    s.output_preview = string_or(row, "output_preview", "");
    s.created_ms = get_int(row, "timestamp").value_or(0);
    page.items.push_back(std::move(s));
  }
  if (page.items.size() > q.limit) {
    page.items.pop_back();
    page.next_cursor = encode_page_cursor({page.items.back().created_ms, page.items.back().id});
  }
  co_return page;
}

std::optional<std::string> training_jsonl_line(const json& messages, std::string_view output) {
  if (output.empty() || !messages.is_array()) return std::nullopt;
  std::string line = "{\"messages\":[";
  size_t n = 0;
  for (const json& m : messages) {
    const std::string* role = get_string(m, "role");
    const std::string* content = get_string(m, "content");
    if (role == nullptr || content == nullptr || !is_prompt_role(*role)) continue;
    if (n++ > 0) line.push_back(',');
    append_message(line, *role, *content);
  }
  if (n == 0) return std::nullopt;
  line.push_back(',');
  append_message(line, "assistant", output);
  line.append("]}");
  return line;
}

// Why a buffered, capped export rather than a streamed one: the body is built page by page (so
// no query returns more than ~kExportRangeBytes of examples), and it is capped, so memory stays
// bounded either way; buffering keeps two things a stream cannot have. A failure (D1 down
// mid-way) is a proper JSON error instead of a silently short file (JSONL has no terminator that
// would tell a client the file is incomplete), and the truncation is declared in response headers
// with a cursor to continue from, which a stream would have had to send before knowing.
//
// Paging: one query lists the next rows' positions and sizes (small), then the rows themselves
// are read in ranges of at most ~kExportRangeBytes, so a few huge examples cannot blow up one
// query's result. The number of queries is bounded too (Workers cap D1 queries per request).
Task<Result<TrainingExport>> export_training_jsonl(Ctx& ctx, std::string user_id,
                                                   ExportOptions opt) {
  constexpr int64_t kSizeRows = 1000;
  constexpr int64_t kExportRangeBytes = int64_t{2} << 20;
  constexpr int kMaxQueries = 40;

  std::optional<PageCursor> pos;
  if (!opt.cursor.empty()) {
    pos = decode_page_cursor(opt.cursor);
    if (!pos) co_return field_error("cursor", "not a cursor from this API");
  }
  TrainingExport out;
  int queries = 0;
  bool more = true;
  while (more && !out.truncated) {
    if (queries + 2 > kMaxQueries) {
      out.truncated = true;
      break;
    }
    ExportFilter f = export_filter(user_id, opt.source, pos);
    Result<std::vector<json>> sizes = co_await d1_all(
        ctx, Stmt("SELECT id, timestamp, length(CAST(input AS BLOB)) + length(CAST(output AS "
                  "BLOB)) AS bytes FROM training_examples WHERE " +
                      f.sql + " ORDER BY timestamp, id LIMIT " + std::to_string(kSizeRows),
                  f.params));
    ++queries;
    if (!sizes.ok()) co_return sizes.take_error();
    const std::vector<json>& rows = sizes.value();
    more = static_cast<int64_t>(rows.size()) == kSizeRows;
    for (size_t i = 0; i < rows.size() && !out.truncated;) {
      // The next range: at least one row, then rows while they fit the byte budget.
      size_t j = i;
      int64_t bytes = 0;
      while (j < rows.size() &&
             (j == i || bytes + get_int(rows[j], "bytes").value_or(0) <= kExportRangeBytes)) {
        bytes += get_int(rows[j], "bytes").value_or(0);
        ++j;
      }
      if (queries >= kMaxQueries) {
        out.truncated = true;
        break;
      }
      const int64_t last_ts = get_int(rows[j - 1], "timestamp").value_or(0);
      const std::string last_id = string_or(rows[j - 1], "id", "");
      ExportFilter rf = export_filter(user_id, opt.source, pos);
      rf.params.push_back(last_ts);
      rf.params.push_back(last_id);
      const std::string t = "?" + std::to_string(rf.params.size() - 1);
      const std::string id = "?" + std::to_string(rf.params.size());
      Result<std::vector<json>> full = co_await d1_all(
          ctx, Stmt("SELECT id, timestamp, input, output FROM training_examples WHERE " + rf.sql +
                        " AND (timestamp < " + t + " OR (timestamp = " + t + " AND id <= " + id +
                        ")) ORDER BY timestamp, id",
                    rf.params));
      ++queries;
      if (!full.ok()) co_return full.take_error();
      for (const json& row : full.value()) {
        json input = object_column(row, "input");
        const json* messages = get_array(input, "messages");
        std::optional<std::string> line =
            messages ? training_jsonl_line(*messages, string_or(row, "output", "")) : std::nullopt;
        if (line) {
          if (out.count >= opt.max_examples || out.body.size() + line->size() + 1 > opt.max_bytes) {
            out.truncated = true;
            break;
          }
          out.body += *line;
          out.body.push_back('\n');
          ++out.count;
        }
        pos = PageCursor{get_int(row, "timestamp").value_or(0), string_or(row, "id", "")};
      }
      i = j;
    }
  }
  if (out.truncated && pos) out.next_cursor = encode_page_cursor(*pos);
  if (out.truncated && !pos) out.next_cursor = opt.cursor;
  co_return out;
}

}  // namespace ec
