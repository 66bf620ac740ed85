// Writes openapi.json from the route table (api/openapi.hpp):
//   edgechat_openapi <src/api/schemas> <out.json> [--draft]
// Exits 1, listing every problem, when a route's declaration is incomplete or inconsistent
// (--draft writes the document anyway, for work in progress; npm test never uses it).
// scripts/openapi runs it to update the committed copy; scripts/test runs it to check for drift.
#include "api/app.hpp"
#include "api/openapi.hpp"
#include "core/json.hpp"
#include "http/pipeline.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

bool read_json(const fs::path& p, ec::json& out) {
  std::ifstream in(p);
  std::stringstream buf;
  buf << in.rdbuf();
  std::optional<ec::json> parsed = ec::parse_json(buf.str(), 64);
  if (!in || !parsed || !parsed->is_object()) {
    std::cerr << "openapi: " << p << " is not a JSON object\n";
    return false;
  }
  out = std::move(*parsed);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const bool draft = argc == 4 && std::string_view(argv[3]) == "--draft";
  if (argc != 3 && !draft) {
    std::cerr << "usage: edgechat_openapi <schemas dir> <out.json> [--draft]\n";
    return 2;
  }
  // The routes every deployment serves: no test hooks.
  if (!ec::app_init(ec::Env{})) {
    std::cerr << "openapi: the route table is inconsistent (app_init failed)\n";
    return 1;
  }
  ec::OpenApiSources sources;
  sources.components = ec::json::object();
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(argv[1])) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  bool ok = true;
  for (const fs::path& p : files) {
    ec::json j;
    if (!read_json(p, j)) return 1;
    if (p.filename() == "document.json") {
      sources.document = std::move(j);
      continue;
    }
    for (auto& [name, schema] : j.items()) {
      if (sources.components.contains(name)) {
        std::cerr << "openapi: schema " << name << " is defined twice (" << p << ")\n";
        ok = false;
      }
      sources.components[name] = schema;
    }
  }
  std::vector<std::string> problems;
  ec::json doc = ec::openapi_document(*ec::current_app(), sources, problems);
  for (const std::string& p : problems) std::cerr << "openapi: " << p << "\n";
  if (!ok || (!problems.empty() && !draft)) {
    std::cerr << "openapi: " << problems.size() << " problem(s); openapi.json not written\n";
    return 1;
  }
  std::ofstream out(argv[2]);
  out << doc.dump(2) << "\n";
  return out ? 0 : 1;
}
