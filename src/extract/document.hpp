// One entry point for "bytes → text" over every format: detects the format from the declared
// type, the filename and the bytes, then runs the matching extractor (PDF through its inflate
// effects). 422 "extract.unsupported_format" for anything else, so binaries are never indexed.
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"
#include "extract/extracted.hpp"

#include <string>

namespace ec {

Task<Result<ExtractedText>> extract_document(Ctx& ctx, std::string bytes, std::string content_type,
                                             std::string filename);

}  // namespace ec
