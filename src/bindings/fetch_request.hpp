// An outbound HTTP request, ready to become a `fetch.start` effect (bindings/http_fetch.hpp). The
// provider wire adapters build them (providers/chat_types.hpp calls them ProviderHttpRequest), and
// so do webhooks; kept free of Ctx so the pure wire code can include it.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace ec {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Header names are lowercase.
struct FetchRequest {
  std::string method;
  std::string url;
  HttpHeaders headers;
  std::string body;  // JSON
};

}  // namespace ec
