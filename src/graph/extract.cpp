#include "graph/extract.hpp"

#include "core/json.hpp"
#include "core/utf8.hpp"
#include "graph/internal.hpp"
#include "text/summarize.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <tuple>
#include <unordered_map>
#include <utility>

namespace ec {
namespace {

using graph_detail::collapse_ws;
using graph_detail::fold_key;
using u8 = unsigned char;

// 64-bit FNV-1a: lower-case words are kept as hashes only; a collision can at worst drop one
// sentence-opening candidate.
uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) h = (h ^ static_cast<u8>(c)) * 0x100000001b3ULL;
  return h;
}

// Simple lower-casing for the scripts whose capitals mark names: ASCII, Latin-1, Latin
// Extended-A, Greek and Cyrillic. Other code points (and kUtf8Invalid) have no case here.
uint32_t to_lower(uint32_t c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7)) return c + 32;
  if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) return c | 1;
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return c + (c & 1);
  if (c == 0x178) return 0xFF;
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 37;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 63;
  if ((c >= 0x391 && c <= 0x3AB && c != 0x3A2) || (c >= 0x410 && c <= 0x42F)) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}
bool is_upper(uint32_t c) { return to_lower(c) != c; }
bool is_lower(uint32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 0xDF && c <= 0xFF && c != 0xF7) ||
         (c >= 0x100 && c <= 0x17F && !is_upper(c)) || (c >= 0x3AC && c <= 0x3CE) ||
         (c >= 0x430 && c <= 0x45F);
}

// Letters and digits, as unicode61 sees them, approximated by block (see fts_query.cpp).
bool is_word_cp(uint32_t c) {
  if (c == kUtf8Invalid) return false;
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  return !(c < 0xC0 || c == 0xD7 || c == 0xF7 || (c >= 0x2000 && c <= 0x2BFF) ||
           (c >= 0x2E00 && c <= 0x2E7F) || (c >= 0x3000 && c <= 0x303F) || c == 0xFEFF ||
           (c >= 0xFFF0 && c <= 0xFFFF) || (c >= 0x1F000 && c <= 0x1FAFF));
}

template <size_t N>
bool contains(const std::array<std::string_view, N>& sorted, std::string_view w) {
  return std::binary_search(sorted.begin(), sorted.end(), w);
}

// Function words and common sentence openers: dropped from the start of a capitalised run ("The",
// "In", "According") and never a relation label on their own. Months and weekdays are capitalised
// without being entities.
constexpr std::array<std::string_view, 127> kFunctionWords = {
    "a",         "about",     "according", "additionally", "after",       "again",   "all",
    "also",      "although",  "an",        "and",          "another",     "any",     "april",
    "are",       "as",        "at",        "august",       "because",     "before",  "both",
    "but",       "by",        "can",       "could",        "december",    "despite", "do",
    "during",    "each",      "either",    "every",        "february",    "finally", "first",
    "following", "for",       "friday",    "from",         "furthermore", "given",   "had",
    "has",       "have",      "he",        "her",          "here",        "his",     "how",
    "however",   "i",         "if",        "in",           "instead",     "into",    "is",
    "it",        "its",       "january",   "july",         "june",        "many",    "march",
    "may",       "meanwhile", "monday",    "more",         "moreover",    "most",    "my",
    "neither",   "next",      "no",        "not",          "november",    "now",     "october",
    "of",        "on",        "once",      "one",          "or",          "our",     "over",
    "overall",   "saturday",  "september", "she",          "since",       "so",      "some",
    "such",      "sunday",    "that",      "the",          "their",       "then",    "there",
    "therefore", "these",     "they",      "this",         "those",       "though",  "thursday",
    "thus",      "to",        "today",     "tuesday",      "under",       "unlike",  "until",
    "using",     "was",       "we",        "wednesday",    "what",        "when",    "where",
    "which",     "while",     "who",       "with",         "yesterday",   "yet",     "you",
    "your"};
constexpr std::array<std::string_view, 13> kConnectors = {
    "da", "de", "del", "der", "di", "du", "for", "la", "le", "of", "the", "van", "von"};
constexpr std::array<std::string_view, 23> kTitles = {
    "ceo",       "cfo",  "chairman",  "chairwoman", "cto",  "dame",    "director", "dr",
    "judge",     "king", "lady",      "lord",       "miss", "mr",      "mrs",      "ms",
    "president", "prof", "professor", "queen",      "rev",  "senator", "sir"};
constexpr std::array<std::string_view, 27> kOrgWords = {
    "ag",         "agency",       "association", "bank",     "co",          "college",
    "commission", "committee",    "company",     "corp",     "corporation", "council",
    "department", "foundation",   "gmbh",        "group",    "inc",         "institute",
    "labs",       "llc",          "ltd",         "ministry", "party",       "plc",
    "society",    "technologies", "university"};
constexpr std::array<std::string_view, 14> kPlaceWords = {
    "avenue",    "bay",   "city",     "county",   "island", "kingdom", "lake",
    "mountains", "ocean", "province", "republic", "river",  "sea",     "street"};
constexpr std::array<std::string_view, 6> kPlacePrepositions = {"across", "at",   "from",
                                                                "in",     "near", "throughout"};
constexpr std::array<std::string_view, 6> kSpeechVerbs = {"argued", "explained", "said",
                                                          "says",   "told",      "wrote"};
constexpr std::array<std::string_view, 11> kLabelLeaders = {
    "also", "and", "but", "had", "has", "have", "or", "that", "then", "which", "who"};
constexpr std::array<std::string_view, 3> kArticles = {"a", "an", "the"};
// Common first names: two or three capitalised words starting with one are most likely a person.
constexpr std::array<std::string_view, 72> kFirstNames = {
    "adam",    "ahmed",     "alex",     "alice",  "amy",      "andrew",  "anna",  "anne",
    "barbara", "ben",       "bob",      "carlos", "carol",    "charles", "chris", "daniel",
    "david",   "elizabeth", "emily",    "emma",   "eric",     "george",  "grace", "hannah",
    "harry",   "helen",     "jack",     "james",  "jane",     "jason",   "jean",  "jennifer",
    "jessica", "john",      "jose",     "joseph", "juan",     "julia",   "karen", "kate",
    "laura",   "li",        "linda",    "lisa",   "maria",    "mark",    "mary",  "matthew",
    "michael", "mohammed",  "nancy",    "olivia", "patricia", "paul",    "peter", "rachel",
    "richard", "robert",    "sarah",    "scott",  "sophie",   "steven",  "susan", "thomas",
    "tim",     "tom",       "victoria", "walter", "wei",      "william", "yuki",  "zoe"};
static_assert(std::is_sorted(kFunctionWords.begin(), kFunctionWords.end()) &&
              std::is_sorted(kConnectors.begin(), kConnectors.end()) &&
              std::is_sorted(kTitles.begin(), kTitles.end()) &&
              std::is_sorted(kOrgWords.begin(), kOrgWords.end()) &&
              std::is_sorted(kPlaceWords.begin(), kPlaceWords.end()) &&
              std::is_sorted(kPlacePrepositions.begin(), kPlacePrepositions.end()) &&
              std::is_sorted(kSpeechVerbs.begin(), kSpeechVerbs.end()) &&
              std::is_sorted(kLabelLeaders.begin(), kLabelLeaders.end()) &&
              std::is_sorted(kFirstNames.begin(), kFirstNames.end()));

struct Token {
  uint32_t begin = 0, end = 0;  // byte range in the sentence
  bool cap = false;             // starts with an upper-case letter
  bool acronym = false;         // two or more capitals and no lower-case letter: "NASA", "AT&T"
  bool possessive = false;      // a trailing "'s" was cut off: ends a run
  bool joined = false;          // only whitespace or '&' separates it from the previous token
  uint32_t code_points = 0;
  std::string folded;
};

// Joiners stay inside a token when a word character follows: "Jean-Paul", "O'Neil", "AT&T", "U.S".
bool is_joiner(uint32_t c) { return c == '-' || c == '\'' || c == 0x2019 || c == '&' || c == '.'; }

void tokenize(std::string_view s, std::vector<Token>& out) {
  out.clear();
  bool clean_gap = true;
  for (size_t i = 0; i < s.size();) {
    uint32_t c = 0;
    const size_t len = decode_utf8(s, i, c);
    if (!is_word_cp(c)) {
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '&') clean_gap = false;
      i += len;
      continue;
    }
    Token t;
    t.begin = static_cast<uint32_t>(i);
    t.joined = clean_gap;
    size_t j = i + len;
    while (j < s.size()) {
      uint32_t d = 0, e = 0;
      const size_t l1 = decode_utf8(s, j, d);
      if (is_word_cp(d)) {
        j += l1;
        continue;
      }
      if (!is_joiner(d) || j + l1 >= s.size()) break;
      const size_t l2 = decode_utf8(s, j + l1, e);
      if (!is_word_cp(e)) break;
      j += l1 + l2;
    }
    std::string_view w = s.substr(i, j - i);
    for (std::string_view suffix : {"'s", "\xE2\x80\x99s"}) {
      if (w.size() > suffix.size() && w.ends_with(suffix)) {
        w.remove_suffix(suffix.size());
        t.possessive = true;
        break;
      }
    }
    t.end = static_cast<uint32_t>(i + w.size());
    int upper = 0, lower = 0;
    for (size_t k = 0; k < w.size();) {
      uint32_t d = 0;
      k += decode_utf8(w, k, d);
      upper += is_upper(d);
      lower += is_lower(d);
      ++t.code_points;
    }
    t.cap = is_upper(c);
    t.acronym = upper >= 2 && lower == 0;
    t.folded = fold_key(w);
    // An all-capitals function word ("THE", "AND") in shouted text is not an acronym.
    if (t.acronym && contains(kFunctionWords, t.folded)) t.cap = t.acronym = false;
    out.push_back(std::move(t));
    clean_gap = true;
    i = j;
  }
}

enum Kind { kOrg, kPerson, kPlace, kKinds };
constexpr std::array<std::string_view, kKinds> kKindName = {"organization", "person", "place"};

struct Candidate {
  std::string name, key;
  size_t first = 0;  // byte offset of the first mention
  int mentions = 0;
  std::array<int, kKinds> votes{};
  bool initial_only = true;  // every mention was a lone word opening a sentence
};

struct Mention {
  uint32_t entity = 0;
  uint32_t begin = 0, end = 0;  // token range
};

struct RelKey {
  uint32_t a, b;
  std::string label;
  bool operator<(const RelKey& o) const {
    return std::tie(a, b, label) < std::tie(o.a, o.b, o.label);
  }
};
struct RelCount {
  int count = 0;
  size_t first = 0;
};

constexpr size_t kMaxRunTokens = 6;  // longer capitalised runs are headings in Title Case
constexpr size_t kPairSpan = 8;
// Bound memory on pathological input (a megabyte of distinct capitalised words): later new names
// and pairs are ignored, while those already seen keep counting.
constexpr size_t kMaxCandidates = 50000;
constexpr size_t kMaxRelationKeys = 100000;

// The relation label for two mentions given the tokens between them (see the header).
std::string label_between(const std::vector<Token>& toks, const Mention& a, const Mention& b) {
  size_t from = a.end;
  size_t to = b.begin;
  if (to - from == 0 || to - from > 3) return "related_to";
  for (size_t k = from; k < to; ++k) {
    if (toks[k].cap || toks[k].folded.empty() ||
        (toks[k].folded[0] >= '0' && toks[k].folded[0] <= '9'))
      return "related_to";
  }
  while (from < to && contains(kLabelLeaders, toks[from].folded)) ++from;
  while (to > from && contains(kArticles, toks[to - 1].folded)) --to;  // "joined the"
  bool content = false;
  std::string label;
  for (size_t k = from; k < to; ++k) {
    content = content || !contains(kFunctionWords, toks[k].folded);
    if (!label.empty()) label.push_back('_');
    label += toks[k].folded;
  }
  if (!content || label.size() > kMaxRelationLabelBytes) return "related_to";
  return label;
}

struct LocalExtractor {
  std::vector<Candidate> cands;
  std::unordered_map<std::string, uint32_t> by_key;
  std::vector<uint64_t> lower_words;  // hashes of words the text writes in lower case
  std::map<RelKey, RelCount> rels;
  std::vector<Token> toks;
  std::vector<Mention> mentions;

  void sentence(std::string_view s, size_t offset) {
    tokenize(s, toks);
    mentions.clear();
    for (const Token& t : toks) {
      if (!t.cap && t.code_points > 1) lower_words.push_back(fnv1a(t.folded));
    }
    for (size_t i = 0; i < toks.size();) {
      if (!toks[i].cap) {
        ++i;
        continue;
      }
      size_t end = i + 1;
      while (end < toks.size() && !toks[end - 1].possessive && toks[end].joined) {
        if (toks[end].cap) {
          ++end;
        } else if (contains(kConnectors, toks[end].folded) && end + 1 < toks.size() &&
                   toks[end + 1].cap && toks[end + 1].joined) {
          end += 2;
        } else {
          break;
        }
      }
      run(s, offset, i, end);
      i = end;
    }
    pair_mentions(offset);
  }

  void run(std::string_view s, size_t offset, size_t begin, size_t end) {
    const bool opens_sentence = begin == 0;  // possibly after words stripped below ("The", "In")
    while (begin < end &&
           (contains(kFunctionWords, toks[begin].folded) || contains(kTitles, toks[begin].folded) ||
            contains(kConnectors, toks[begin].folded))) {
      ++begin;
    }
    while (end > begin && contains(kConnectors, toks[end - 1].folded)) --end;
    if (begin == end || end - begin > kMaxRunTokens) return;
    const Token& first = toks[begin];
    const Token& last = toks[end - 1];
    const bool single = end - begin == 1;
    if (single && !first.acronym && first.code_points < 2) return;  // "I", "X"
    std::string name = collapse_ws(s.substr(first.begin, last.end - first.begin));
    if (name.size() > kMaxEntityNameBytes) return;

    std::array<int, kKinds> votes{};
    const std::string_view before = begin > 0 ? std::string_view(toks[begin - 1].folded) : "";
    const std::string_view after = end < toks.size() ? std::string_view(toks[end].folded) : "";
    if (contains(kOrgWords, last.folded) || contains(kOrgWords, first.folded)) votes[kOrg] += 3;
    if (contains(kTitles, before)) votes[kPerson] += 3;
    if (!single && end - begin <= 3 && contains(kFirstNames, first.folded)) votes[kPerson] += 2;
    if (contains(kSpeechVerbs, after)) votes[kPerson] += 1;
    if (contains(kPlaceWords, last.folded) || contains(kPlaceWords, first.folded)) {
      votes[kPlace] += 2;
    }
    // "at NASA", "from IBM": after a preposition an acronym is more often an organisation.
    if (!first.acronym && contains(kPlacePrepositions, before)) votes[kPlace] += 1;

    std::string key = fold_key(name);
    auto it = by_key.find(key);
    if (it == by_key.end()) {
      if (cands.size() >= kMaxCandidates) return;
      it = by_key.emplace(key, static_cast<uint32_t>(cands.size())).first;
      cands.push_back({std::move(name), std::move(key), offset + first.begin, 0, {}, true});
    }
    Candidate& c = cands[it->second];
    ++c.mentions;
    for (size_t k = 0; k < kKinds; ++k) c.votes[k] += votes[k];
    c.initial_only = c.initial_only && single && opens_sentence && !first.acronym;
    mentions.push_back({it->second, static_cast<uint32_t>(begin), static_cast<uint32_t>(end)});
  }

  void pair_mentions(size_t offset) {
    for (size_t i = 0; i < mentions.size(); ++i) {
      for (size_t j = i + 1; j < mentions.size() && j <= i + kPairSpan; ++j) {
        const Mention& a = mentions[i];
        const Mention& b = mentions[j];
        if (a.entity == b.entity) continue;
        RelKey key{a.entity, b.entity, label_between(toks, a, b)};
        // Co-occurrence has no direction: one key per unordered pair.
        if (key.label == "related_to" && key.b < key.a) std::swap(key.a, key.b);
        auto it = rels.find(key);
        if (it == rels.end()) {
          if (rels.size() >= kMaxRelationKeys) continue;
          it = rels.emplace(std::move(key), RelCount{0, offset + toks[a.begin].begin}).first;
        }
        ++it->second.count;
      }
    }
  }
};

std::string_view entity_type(const Candidate& c) {
  size_t best = kKinds;
  for (size_t k = 0; k < kKinds; ++k) {
    if (c.votes[k] > 0 && (best == kKinds || c.votes[k] > c.votes[best])) best = k;
  }
  return best == kKinds ? "concept" : kKindName[best];
}

}  // namespace

namespace graph_detail {

std::string fold_key(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    uint32_t c = 0;
    const size_t len = decode_utf8(s, i, c);
    if (c == kUtf8Invalid) {
      out.push_back(s[i]);
    } else {
      append_utf8(out, to_lower(c));
    }
    i += len;
  }
  return out;
}

std::string collapse_ws(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' ||
        static_cast<u8>(c) < 0x20 || c == 0x7F) {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace graph_detail

Graph extract_graph_local(std::string_view text, size_t max_entities, size_t max_relations) {
  Graph g;
  if (max_entities == 0) return g;
  text = text.substr(0, utf8_prefix_bytes(text, kMaxGraphInputBytes));
  LocalExtractor x;
  for (std::string_view s : split_sentences(text)) {
    x.sentence(s, static_cast<size_t>(s.data() - text.data()));
  }

  std::sort(x.lower_words.begin(), x.lower_words.end());
  const auto lower = x.lower_words.begin();
  const auto lower_end = x.lower_words.end();
  std::vector<uint32_t> order;
  for (uint32_t i = 0; i < x.cands.size(); ++i) {
    const Candidate& c = x.cands[i];
    // "Researchers found…": a capitalised sentence opener that also appears in lower case.
    if (c.initial_only && std::binary_search(lower, lower_end, fnv1a(c.key))) continue;
    order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return x.cands[a].mentions > x.cands[b].mentions;  // ties stay in first-mention order
  });
  if (order.size() > max_entities) order.resize(max_entities);
  std::vector<int64_t> kept(x.cands.size(), -1);
  for (uint32_t i : order) {
    const Candidate& c = x.cands[i];
    kept[i] = static_cast<int64_t>(g.entities.size());
    g.entities.push_back({c.name, std::string(entity_type(c)), c.mentions});
  }

  std::vector<std::pair<const RelKey*, RelCount>> rels;
  for (const auto& [key, count] : x.rels) {
    if (kept[key.a] >= 0 && kept[key.b] >= 0) rels.emplace_back(&key, count);
  }
  std::sort(rels.begin(), rels.end(), [](const auto& a, const auto& b) {
    if (a.second.count != b.second.count) return a.second.count > b.second.count;
    if (a.second.first != b.second.first) return a.second.first < b.second.first;
    return *a.first < *b.first;
  });
  if (rels.size() > max_relations) rels.resize(max_relations);
  for (const auto& [key, count] : rels) {
    g.relations.push_back(
        {x.cands[key->a].name, x.cands[key->b].name, key->label, static_cast<float>(count.count)});
  }
  return g;
}

json graph_json(const Graph& graph) {
  json entities = json::array();
  for (const GraphEntity& e : graph.entities) {
    entities.push_back({{"name", e.name}, {"type", e.type}, {"mentions", e.mentions}});
  }
  json relations = json::array();
  for (const GraphRelation& r : graph.relations) {
    relations.push_back({{"source", r.source},
                         {"target", r.target},
                         {"relation", r.relation},
                         {"weight", r.weight}});
  }
  return {{"entities", std::move(entities)}, {"relations", std::move(relations)}};
}

}  // namespace ec
