#include "api/app.hpp"

#include "api/gateway.hpp"
#include "api/routes.hpp"
#include "auth/service.hpp"
#include "cleanup/cleanup.hpp"
#include "core/env.hpp"
#include "core/runtime.hpp"
#include "files/file_service.hpp"
#include "index/local_index.hpp"
#include "jobs/job_types.hpp"
#include "limits/rate_limit.hpp"
#include "rag/document_jobs.hpp"

#include <memory>

namespace ec {

namespace {
std::unique_ptr<HttpApp>& app_slot() {
  static std::unique_ptr<HttpApp> app;
  return app;
}
}  // namespace

bool app_init(const Env& env) {
  auto app = std::make_unique<HttpApp>();
  HttpConfig http;
  auto origins = env.find("ALLOWED_ORIGINS");
  http.cors = CorsPolicy::parse(origins == env.end() ? "" : origins->second);
  http.body_limit = static_cast<size_t>(env_int(env, "BODY_LIMIT_BYTES", 1 << 20));
  http.run_route = run_gateway_route;
  app->configure(std::move(http));
  bool ok = add_health_routes(*app) && add_auth_routes(*app) && add_seed_auth_routes(*app) &&
            add_api_key_routes(*app) && add_file_routes(*app) && add_document_routes(*app) &&
            add_chat_routes(*app) && add_seed_file_routes(*app) && add_chat_message_routes(*app) &&
            add_stream_routes(*app) && add_openai_routes(*app) && add_seed_chat_routes(*app) &&
            add_memory_routes(*app) && add_training_routes(*app) && add_job_routes(*app) &&
            add_billing_routes(*app) && add_admin_user_routes(*app) && add_admin_routes(*app);
  auto hooks = env.find("EDGECHAT_TEST_HOOKS");
  if (ok && hooks != env.end() && hooks->second == "1") ok = add_test_hooks(*app);
  if (!ok) return false;
  // Job types, added like routes: the engine (src/jobs) knows none by name.
  clear_job_types();
  if (!add_document_job_types() || !add_cleanup_job_type()) return false;
  auth_init(env);
  rate_limits_init(env);
  // Per-instance caches hold data read from this environment's storage.
  clear_local_index_cache();
  reset_presign_secret_cache();
  app_slot() = std::move(app);
  return true;
}

const HttpApp* current_app() { return app_slot().get(); }

std::string request_header_names() {
  std::string out;
  for (std::string_view name : kRequestHeaders) {
    if (!out.empty()) out.push_back('\n');
    out.append(name);
  }
  return out;
}

Task<Response> handle_request(Ctx& ctx) {
  if (!app_slot()) {
    // core_init was never called (a shim bug): fail closed with the usual error shape.
    co_return runtime_error_response(Err::runtime_not_initialised);
  }
  co_return co_await app_slot()->handle(ctx);
}

}  // namespace ec
