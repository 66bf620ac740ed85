// The body of an ingest (POST /api/v1/documents, seed 000's POST /api/ingest), shared by both.
#pragma once

#include "http/validate.hpp"

namespace ec {

// The top level of an ingest body; parse_ingest_request keeps the rules a Schema cannot say
// (exactly one of content or fileId, byte limits, the docId charset, chunking bounds).
inline const Schema kIngestSchema = {
    field("title").string().nullable().describe("At most 300 bytes; the file's name by default"),
    field("content").string().nullable().describe("The text (give content or fileId)"),
    field("fileId").string().nullable().describe("An uploaded file to ingest (or content)"),
    field("metadata").object().nullable(),
    field("docId").string().nullable().describe(
        "Re-ingest into this document id (1-128 of [A-Za-z0-9._:-])"),
    field("id").string().nullable().describe("Same as docId"),
    field("contentType")
        .string()
        .nullable()
        .max(100)
        .describe("The media type of content (default text/markdown)"),
    field("chunkSize").integer().nullable(),
    field("chunkOverlap").integer().nullable(),
};

// What an ingest can answer besides the gateway's codes (the route tables' .errors), one list for
// both routes.
inline constexpr std::string_view kIngestErrors[] = {
    "files.not_found",
    "extract.too_large",
    "extract.unsupported_format",
    "extract.binary",
    "extract.encrypted",
    "extract.malformed",
    "extract.no_text",
    "documents.busy",
    "documents.too_many_chunks",
    "documents.source_missing",
    "storage.quota_exceeded",
    "storage.unavailable",
    "storage.conflict",
    "storage.value_too_large",
    "ai.unavailable",
    "ai.bad_reply",
    "vectors.unavailable",
    "vectors.rejected",
};

}  // namespace ec
