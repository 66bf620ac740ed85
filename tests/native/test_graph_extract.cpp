// Knowledge-graph extraction: the local heuristic extractor on realistic and adversarial text, and
// parse_llm_graph treating an LLM's reply as untrusted input (prose, fences, truncation, invented
// entities, oversized fields).
#include "support/utf8_oracle.hpp"

#include <catch2/catch.hpp>

#include "core/json.hpp"
#include "graph/extract.hpp"

#include <chrono>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using ec::extract_graph_local;
using ec::Graph;
using ec::GraphEntity;
using ec::GraphRelation;
using ec::parse_llm_graph;

using ec::testing::ref_seq_len;
using ec::testing::valid_utf8;

namespace {

const GraphEntity* entity(const Graph& g, std::string_view name) {
  for (const GraphEntity& e : g.entities) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

const GraphRelation* relation(const Graph& g, std::string_view source, std::string_view target) {
  for (const GraphRelation& r : g.relations) {
    if ((r.source == source && r.target == target) || (r.source == target && r.target == source))
      return &r;
  }
  return nullptr;
}

std::string type_of(const Graph& g, std::string_view name) {
  const GraphEntity* e = entity(g, name);
  return e == nullptr ? "<missing>" : e->type;
}

// Structural guarantees every Graph must meet, whatever the input.
void check_well_formed(const Graph& g, size_t max_entities, size_t max_relations) {
  CHECK(g.entities.size() <= max_entities);
  CHECK(g.relations.size() <= max_relations);
  std::vector<std::string> keys;
  for (const GraphEntity& e : g.entities) {
    CHECK_FALSE(e.name.empty());
    CHECK(e.name.size() <= ec::kMaxEntityNameBytes);
    CHECK(valid_utf8(e.name));
    CHECK(e.mentions >= 1);
    const std::vector<std::string> types = {"person", "organization", "place", "concept", "other"};
    CHECK(std::find(types.begin(), types.end(), e.type) != types.end());
  }
  for (const GraphRelation& r : g.relations) {
    CHECK(entity(g, r.source) != nullptr);
    CHECK(entity(g, r.target) != nullptr);
    CHECK(r.source != r.target);
    CHECK_FALSE(r.relation.empty());
    CHECK(r.relation.size() <= ec::kMaxRelationLabelBytes);
    CHECK(r.relation.find(' ') == std::string::npos);
    CHECK(r.weight >= 1.0f);
  }
}

const char* const kStory =
    "Dr. Jane Smith founded Acme Corp in Berlin. Jane Smith later joined the University of "
    "Oxford. NASA works with Acme Corp. Researchers at NASA's Ames Research Center study Mars. "
    "Many researchers agree. In Paris, Émile Zola wrote about Procter & Gamble. The Bank of "
    "America said Google's profits rose.";

}  // namespace

TEST_CASE("extract_graph_local finds named entities with types and mentions", "[graph]") {
  const Graph g = extract_graph_local(kStory);
  check_well_formed(g, 50, 100);
  CHECK(type_of(g, "Jane Smith") == "person");
  CHECK(entity(g, "Jane Smith")->mentions == 2);
  CHECK(type_of(g, "Acme Corp") == "organization");
  CHECK(entity(g, "Acme Corp")->mentions == 2);
  CHECK(type_of(g, "Berlin") == "place");
  CHECK(type_of(g, "Paris") == "place");
  CHECK(type_of(g, "University of Oxford") == "organization");
  CHECK(type_of(g, "Bank of America") == "organization");
  CHECK(type_of(g, "Émile Zola") == "person");
  CHECK(type_of(g, "NASA") == "concept");  // an acronym with no other evidence
  CHECK(entity(g, "NASA")->mentions == 2);
  CHECK(entity(g, "Ames Research Center") != nullptr);  // possessive "NASA's" ends the name
  CHECK(entity(g, "Procter & Gamble") != nullptr);
  CHECK(entity(g, "Google") != nullptr);
  // Sentence openers and titles are not entities.
  for (const char* noise : {"Dr", "The", "In", "Many", "Researchers", "Dr. Jane Smith",
                            "The Bank of America", "NASA's", "Google's"}) {
    INFO(noise);
    CHECK(entity(g, noise) == nullptr);
  }
  // Most mentioned first, then first mention.
  REQUIRE(g.entities.size() >= 4);
  CHECK(g.entities[0].name == "Jane Smith");
  CHECK(g.entities[1].name == "Acme Corp");
  CHECK(g.entities[2].name == "NASA");
  CHECK(g.entities[3].name == "Berlin");
}

TEST_CASE("extract_graph_local labels relations by the words between entities", "[graph]") {
  const Graph g = extract_graph_local(kStory);
  const auto label = [&](std::string_view a, std::string_view b) {
    const GraphRelation* r = relation(g, a, b);
    return r == nullptr ? std::string("<none>") : r->relation;
  };
  CHECK(label("Jane Smith", "Acme Corp") == "founded");
  CHECK(label("Jane Smith", "University of Oxford") == "later_joined");  // article dropped
  CHECK(label("Acme Corp", "Berlin") == "related_to");                   // only "in"
  CHECK(label("Ames Research Center", "Mars") == "study");
  CHECK(label("Émile Zola", "Procter & Gamble") == "wrote_about");
  CHECK(label("Bank of America", "Google") == "said");
  CHECK(label("Jane Smith", "Mars") == "<none>");  // never in the same sentence
  const GraphRelation* r = relation(g, "Jane Smith", "Acme Corp");
  CHECK(r->source == "Jane Smith");
  CHECK(r->weight == 1.0f);
}

TEST_CASE("extract_graph_local counts co-occurrences and dedupes case-insensitively", "[graph]") {
  const Graph g = extract_graph_local(
      "Alice Johnson met Bob Lee in Rome. ALICE JOHNSON met Bob Lee again. alice johnson is "
      "lower case here. Later Bob Lee and Alice Johnson met.");
  check_well_formed(g, 50, 100);
  REQUIRE(entity(g, "Alice Johnson") != nullptr);
  CHECK(entity(g, "Alice Johnson")->mentions == 3);  // lower-case text is not a mention
  CHECK(entity(g, "ALICE JOHNSON") == nullptr);
  CHECK(type_of(g, "Alice Johnson") == "person");  // common first name
  const GraphRelation* met = relation(g, "Alice Johnson", "Bob Lee");
  REQUIRE(met != nullptr);
  CHECK(met->relation == "met");
  CHECK(met->weight == 2.0f);
  // "Bob Lee and Alice Johnson": only a function word between them.
  size_t related = 0;
  for (const GraphRelation& r : g.relations) related += r.relation == "related_to";
  CHECK(related >= 1);
}

TEST_CASE("extract_graph_local drops capitalised sentence openers that are ordinary words",
          "[graph]") {
  const Graph g = extract_graph_local(
      "Kubernetes schedules containers. Researchers like it. Many researchers agree. This "
      "approach scales. However Kubernetes is complex.");
  CHECK(entity(g, "Kubernetes") != nullptr);  // never written in lower case
  CHECK(entity(g, "Kubernetes")->mentions == 2);
  CHECK(entity(g, "Researchers") == nullptr);
  CHECK(entity(g, "This") == nullptr);
  CHECK(entity(g, "However") == nullptr);
  CHECK(g.entities.size() == 1);

  const Graph h = extract_graph_local(
      "According to Matthew Prince, the CEO of Cloudflare, growth is strong. The Engineers agree, "
      "as engineers do.");
  CHECK(entity(h, "According") == nullptr);
  CHECK(type_of(h, "Matthew Prince") == "person");
  CHECK(entity(h, "Cloudflare") != nullptr);  // a role is not part of the name
  CHECK(entity(h, "CEO of Cloudflare") == nullptr);
  CHECK(entity(h, "Engineers") == nullptr);  // opens its sentence once "The" is dropped
  CHECK(h.entities.size() == 2);
}

TEST_CASE("extract_graph_local handles non-ASCII names", "[graph]") {
  const Graph g = extract_graph_local(
      "Søren Kierkegaard lived in København. Ángela Ruiz visited Łódź and Москва. 東京 is big.");
  check_well_formed(g, 50, 100);
  CHECK(entity(g, "Søren Kierkegaard") != nullptr);
  CHECK(type_of(g, "København") == "place");
  CHECK(entity(g, "Ángela Ruiz") != nullptr);
  CHECK(entity(g, "Łódź") != nullptr);
  CHECK(entity(g, "Москва") != nullptr);
  CHECK(entity(g, "東京") == nullptr);  // no capital letters in that script
  CHECK(relation(g, "Ángela Ruiz", "Łódź")->relation == "visited");
}

TEST_CASE("extract_graph_local caps entities and relations", "[graph]") {
  std::string text;
  for (int i = 0; i < 200; ++i) {
    text += "Zed" + std::to_string(i % 7) + "x met Zed" + std::to_string((i + 1) % 7) +
            "x and Wam" + std::to_string(i) + "z. ";
  }
  const Graph g = extract_graph_local(text, 5, 3);
  check_well_formed(g, 5, 3);
  CHECK(g.entities.size() == 5);
  CHECK(g.relations.size() == 3);
  CHECK(g.entities[0].name == "Zed1x");  // 58 mentions, and mentioned before Zed2x and Zed3x
  CHECK(extract_graph_local(text, 0, 10).entities.empty());
  CHECK(extract_graph_local(text, 10, 0).relations.empty());
}

TEST_CASE("extract_graph_local survives adversarial input", "[graph]") {
  CHECK(extract_graph_local("").entities.empty());
  CHECK(extract_graph_local("\xFF\xFE\xC3").entities.empty());
  // Invalid bytes split words and never reach a name.
  const Graph bad = extract_graph_local(
      "Acme\xFF"
      "Corp met Hans\xC3 M\xC3\xBCller in Z\xFF\xFErich.");
  check_well_formed(bad, 50, 100);
  // A Title Case heading is too long to be a name; an over-long run is skipped, not truncated.
  const Graph heading = extract_graph_local("How To Build A Great Product In Ten Days Fast");
  CHECK(heading.entities.empty());
  std::mt19937 rng(4242);
  const std::string alphabet = "Aa Bb. ,'&-\n\xC3\x89\xC3\xA9\xFF\xD0\x9C";
  for (int iter = 0; iter < 300; ++iter) {
    std::string text;
    const size_t len = rng() % 300;
    for (size_t i = 0; i < len; ++i) text.push_back(alphabet[rng() % alphabet.size()]);
    const Graph g = extract_graph_local(text, 10, 10);
    check_well_formed(g, 10, 10);
    CHECK(ec::dump_json(ec::graph_json(g)) ==
          ec::dump_json(ec::graph_json(extract_graph_local(text, 10, 10))));
  }
}

TEST_CASE("extract_graph_local only scans the first kMaxGraphInputBytes", "[graph]") {
  std::string text;
  while (text.size() < ec::kMaxGraphInputBytes + 1000) text += kStory, text += "\n\n";
  text += " Zanzibar Holdings bought Quorra Labs.";
  const auto t0 = std::chrono::steady_clock::now();
  const Graph g = extract_graph_local(text);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20));  // Debug + sanitizers
  check_well_formed(g, 50, 100);
  CHECK(entity(g, "Jane Smith") != nullptr);
  CHECK(entity(g, "Quorra Labs") == nullptr);
  // One giant run of capitalised words without punctuation.
  std::string caps;
  while (caps.size() < (2u << 20)) caps += "Alpha Beta Gamma ";
  check_well_formed(extract_graph_local(caps), 50, 100);
}

TEST_CASE("extract_graph_local is deterministic", "[graph]") {
  const std::string a = ec::dump_json(ec::graph_json(extract_graph_local(kStory)));
  for (int i = 0; i < 5; ++i) {
    CHECK(ec::dump_json(ec::graph_json(extract_graph_local(kStory))) == a);
  }
}

TEST_CASE("graph_json has the response shape", "[graph]") {
  Graph g;
  g.entities.push_back({"Acme", "organization", 3});
  g.entities.push_back({"Bob", "person", 1});
  g.relations.push_back({"Bob", "Acme", "works_at", 2.0f});
  CHECK(ec::dump_json(ec::graph_json(g)) ==
        R"({"entities":[{"mentions":3,"name":"Acme","type":"organization"},)"
        R"({"mentions":1,"name":"Bob","type":"person"}],)"
        R"("relations":[{"relation":"works_at","source":"Bob","target":"Acme","weight":2.0}]})");
  CHECK(ec::dump_json(ec::graph_json(Graph{})) == R"({"entities":[],"relations":[]})");
}

TEST_CASE("graph_extraction_prompt asks for JSON only and truncates the text", "[graph]") {
  const std::string p = ec::graph_extraction_prompt("Alice founded Acme.");
  CHECK(p.find("ONLY a JSON object") != std::string::npos);
  CHECK(p.find(R"("entities":[{"name")") != std::string::npos);
  CHECK(p.find("<document>\nAlice founded Acme.\n</document>") != std::string::npos);
  std::string big;
  while (big.size() < 10000) big += "€";
  const std::string q = ec::graph_extraction_prompt(big);
  CHECK(valid_utf8(q));
  const size_t open = q.find("<document>\n") + 11;
  const size_t len = q.find("\n</document>") - open;
  CHECK(len <= ec::kGraphPromptTextBytes);
  CHECK(len >= ec::kGraphPromptTextBytes - 3);
}

TEST_CASE("parse_llm_graph accepts a clean reply", "[graph]") {
  auto r = parse_llm_graph(
      R"({"entities":[{"name":"Alice","type":"person"},{"name":"Acme Corp","type":"organization"}],
          "relations":[{"source":"Alice","target":"Acme Corp","relation":"founded"}]})");
  REQUIRE(r.ok());
  const Graph& g = r.value();
  REQUIRE(g.entities.size() == 2);
  CHECK(g.entities[0].name == "Alice");
  CHECK(g.entities[0].type == "person");
  CHECK(g.entities[0].mentions == 1);
  REQUIRE(g.relations.size() == 1);
  CHECK(g.relations[0].relation == "founded");
  CHECK(g.relations[0].weight == 1.0f);
}

TEST_CASE("parse_llm_graph finds the object inside fences and prose", "[graph]") {
  const std::string body = R"({"entities":[{"name":"Paris","type":"place"}],"relations":[]})";
  for (const std::string& reply :
       {"```json\n" + body + "\n```", "Sure! Here is the graph:\n" + body + "\nHope this helps.",
        "Using {braces} loosely, I found: " + body, "Example: {\"note\": 1}. Answer: " + body,
        "{ broken { " + body, "\xEF\xBB\xBF  " + body + " }}}"}) {
    INFO(reply);
    auto r = parse_llm_graph(reply);
    REQUIRE(r.ok());
    REQUIRE(r.value().entities.size() == 1);
    CHECK(r.value().entities[0].name == "Paris");
    CHECK(r.value().entities[0].type == "place");
  }
}

TEST_CASE("parse_llm_graph fails only without a usable object", "[graph]") {
  for (const std::string& reply :
       {std::string(""), std::string("I could not find any entities."), std::string("[1, 2, 3]"),
        std::string(R"({"entities": [{"name": "A"})"), std::string(R"({"relations": []})"),
        std::string(R"({"entities": {"name": "A"}})"), std::string(R"({"entities": "none"})"),
        std::string(R"({"entities": [}])"), std::string(20000, '{'),
        std::string(R"({"entities":[{"name":"bad \ud800 escape"}]})")}) {
    INFO(reply.substr(0, 80));
    auto r = parse_llm_graph(reply);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().status == 422);
    CHECK(r.error().code == "graph.invalid_llm_output");
  }
  auto empty = parse_llm_graph(R"({"entities":[]})");
  REQUIRE(empty.ok());
  CHECK(empty.value().entities.empty());
}

TEST_CASE("parse_llm_graph drops invalid items instead of failing", "[graph]") {
  const std::string long_name(ec::kMaxEntityNameBytes + 1, 'n');
  const std::string long_label(ec::kMaxRelationLabelBytes + 1, 'l');
  const std::string reply = R"({"entities":[
      {"name":"  Alice \n Smith  ","type":"PERSON"},
      {"name":"\"Acme\"","type":"Organisation"},
      {"name":"alice smith","type":"place"},
      {"name":"","type":"person"}, {"name":"   "}, {"name":42}, {"type":"person"}, "Bob", null,
      {"name":")" + long_name +
                            R"("},
      {"name":"Zeta","type":"spaceship"},
      {"name":"Omega"}
    ],
    "relations":[
      {"source":"ALICE SMITH","target":"acme","relation":"Works At"},
      {"source":"Alice Smith","target":"Acme","relation":"works  at"},
      {"source":"Alice Smith","target":"Mallory","relation":"knows"},
      {"source":"Alice Smith","target":"Alice Smith","relation":"is"},
      {"source":"Acme","target":"Zeta","relation":""},
      {"source":"Acme","target":"Zeta","relation":")" +
                            long_label + R"("},
      {"source":"Acme","target":"Zeta"},
      {"source":"Acme","target":"Zeta","relation":7},
      {"source":["Acme"],"target":"Zeta","relation":"owns"},
      "garbage",
      {"source":"Omega","target":"Zeta","relation":"orbits"}
    ]})";
  auto r = parse_llm_graph(reply);
  REQUIRE(r.ok());
  const Graph& g = r.value();
  check_well_formed(g, 50, 100);
  REQUIRE(g.entities.size() == 4);
  CHECK(g.entities[0].name == "Alice Smith");
  CHECK(g.entities[0].type == "person");
  CHECK(g.entities[1].name == "Acme");
  CHECK(g.entities[1].type == "organization");
  CHECK(g.entities[2].name == "Zeta");
  CHECK(g.entities[2].type == "other");
  CHECK(g.entities[3].name == "Omega");
  CHECK(g.entities[3].type == "other");
  REQUIRE(g.relations.size() == 2);
  CHECK(g.relations[0].source == "Alice Smith");  // the entity's spelling
  CHECK(g.relations[0].target == "Acme");
  CHECK(g.relations[0].relation == "works_at");
  CHECK(g.relations[1].relation == "orbits");
}

TEST_CASE("parse_llm_graph caps entities and relations", "[graph]") {
  ec::json entities = ec::json::array();
  ec::json relations = ec::json::array();
  for (int i = 0; i < 500; ++i) {
    entities.push_back({{"name", "E" + std::to_string(i)}, {"type", "concept"}});
    relations.push_back({{"source", "E" + std::to_string(i)},
                         {"target", "E" + std::to_string(i + 1)},
                         {"relation", "next"}});
  }
  const std::string reply = ec::dump_json({{"entities", entities}, {"relations", relations}});
  auto r = parse_llm_graph(reply, 10, 4);
  REQUIRE(r.ok());
  CHECK(r.value().entities.size() == 10);
  CHECK(r.value().relations.size() == 4);
  auto d = parse_llm_graph(reply);
  REQUIRE(d.ok());
  CHECK(d.value().entities.size() == 50);
  CHECK(d.value().relations.size() == 49);  // E49 -> E50 names a dropped entity
  check_well_formed(d.value(), 50, 100);
}

TEST_CASE("parse_llm_graph survives random garbage", "[graph]") {
  std::mt19937 rng(31337);
  const std::string body =
      R"({"entities":[{"name":"A","type":"person"},{"name":"B"}],"relations":[{"source":"A","target":"B","relation":"r"}]})";
  for (int iter = 0; iter < 500; ++iter) {
    std::string reply = body;
    const size_t edits = 1 + rng() % 4;
    for (size_t e = 0; e < edits; ++e) {
      const size_t at = rng() % reply.size();
      switch (rng() % 3) {
        case 0:
          reply.erase(at, 1);
          break;
        case 1:
          reply.insert(at, 1, "{}[]\",:\\x\xFF"[rng() % 11]);
          break;
        default:
          reply[at] = static_cast<char>(rng() % 256);
          break;
      }
    }
    auto r = parse_llm_graph(reply);
    if (r.ok()) {
      check_well_formed(r.value(), 50, 100);
    } else {
      CHECK(r.error().code == "graph.invalid_llm_output");
    }
  }
}
