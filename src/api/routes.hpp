// The route table, one file per resource. Canonical routes live under /api/v1; each seed's
// documented routes are thin adapters over the same services (DESIGN.md, seeds table).
#pragma once

#include "http/pipeline.hpp"

namespace ec {

inline constexpr std::string_view kVersion = "0.1.0";
// The newest migration this core expects; /ready is 503 until D1 has it.
inline constexpr std::string_view kLatestMigration = "0006_document_builds.sql";

bool add_health_routes(HttpApp& app);
bool add_auth_routes(HttpApp& app);          // /api/v1/auth/*, /.well-known/jwks.json
bool add_seed_auth_routes(HttpApp& app);     // seeds 000, 001, 003
bool add_api_key_routes(HttpApp& app);       // /api/v1/api-keys*
bool add_file_routes(HttpApp& app);          // /api/v1/files*
bool add_document_routes(HttpApp& app);      // /api/v1/documents*, /api/v1/search, /api/v1/graph/*
bool add_chat_routes(HttpApp& app);          // /api/v1/chats*, /api/v1/messages/:id*
bool add_seed_file_routes(HttpApp& app);     // seeds 000 (r2, ingest, documents) and 003 (upload)
bool add_chat_message_routes(HttpApp& app);  // POST /api/v1/chats/:id/messages, PATCH messages
bool add_stream_routes(HttpApp& app);        // /api/v1/streams* (resumable streams)
bool add_openai_routes(HttpApp& app);        // /v1/chat/completions, /v1/models
bool add_seed_chat_routes(HttpApp& app);  // /api/chat*, /api/si/ask, /api/ai/* (seeds 000/001/003)
bool add_memory_routes(HttpApp& app);     // /api/v1/memory/streams*
bool add_training_routes(HttpApp& app);   // /api/v1/training-examples*
// /api/v1/jobs*, /api/jobs* (seed 003), /internal/jobs/run, /internal/cron
bool add_job_routes(HttpApp& app);
bool add_admin_routes(HttpApp& app);    // /api/admin/ping, /api/admin/cleanup (+ /api/v1/admin/*)
bool add_billing_routes(HttpApp& app);  // /api/credits*, /api/billing/usage (+ /api/v1)
bool add_admin_user_routes(HttpApp& app);  // /api/admin/users*, /api/admin/usage (+ /api/v1)
bool add_test_hooks(HttpApp& app);         // only with EDGECHAT_TEST_HOOKS=1

}  // namespace ec
