// Constant-time comparison for secrets (MACs, session tokens, CSRF tokens). A plain == returns
// at the first differing byte, so response timing tells an attacker how many leading bytes of a
// forged MAC were right, and they can recover it a byte at a time.
#pragma once

#include <cstddef>
#include <string_view>

namespace ec {

// True iff a and b hold the same bytes. The running time depends only on the lengths: if they
// differ the answer is false at once (the length of a MAC or token is public anyway); otherwise
// every byte is visited and differences are OR-ed together without branching on them.
inline bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  // volatile stops the optimiser from noticing that once diff is non-zero the result is fixed and
  // turning the loop back into an early exit.
  volatile unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = diff | static_cast<unsigned char>(static_cast<unsigned char>(a[i]) ^
                                             static_cast<unsigned char>(b[i]));
  }
  return diff == 0;
}

}  // namespace ec
