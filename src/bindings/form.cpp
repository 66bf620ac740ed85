#include "bindings/form.hpp"

namespace ec {

Task<Result<FormData>> read_form(Ctx& ctx, int64_t max_bytes, std::string file_field) {
  EffectResult r =
      co_await ctx.perform(make_effect("body.form", {{"max", max_bytes}, {"file", file_field}}));
  if (!r.ok()) {
    if (r.error == EffectError::kTooLarge) {
      co_return api_error(Err::files_too_large);
    }
    if (r.error == EffectError::kInvalid) {
      co_return api_error(Err::files_bad_upload, "The multipart body could not be parsed");
    }
    co_return api_error(Err::runtime_unavailable);
  }
  json v = r.as_json();
  FormData out;
  if (const json* f = get_object(v, "fields")) {
    for (const auto& [k, val] : f->items()) {
      if (val.is_string()) out.fields[k] = val;
    }
  }
  if (const json* f = get_object(v, "file")) {
    FormFile file;
    file.field = file_field;
    file.filename = string_or(*f, "filename", "");
    file.content_type = string_or(*f, "type", "");
    file.size = get_int(*f, "size").value_or(-1);
    if (file.size < 0) co_return api_error(Err::files_bad_upload, "Malformed file part");
    out.file = std::move(file);
  }
  co_return out;
}

}  // namespace ec
