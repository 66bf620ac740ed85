// Reads a file under tests/fixtures/ (binary-safe), failing the test if it is missing.
#pragma once

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

namespace ec::testing {

inline std::string read_fixture(const std::string& relative) {
  std::ifstream in(std::string(EDGECHAT_SOURCE_DIR) + "/tests/fixtures/" + relative,
                   std::ios::binary);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace ec::testing
