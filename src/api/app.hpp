// The application: configuration from env, the route table, and the entry the Runtime calls.
#pragma once

#include "core/context.hpp"
#include "core/task.hpp"

namespace ec {

// Builds the route table and reads settings; false if the route table is inconsistent.
bool app_init(const Env& env);
Task<Response> handle_request(Ctx& ctx);
// The route table app_init built (nullptr before): for the API description (tools/openapi.cpp).
const class HttpApp* current_app();
// The request headers the shim should send, newline-separated (see kRequestHeaders).
std::string request_header_names();

}  // namespace ec
