// Math that must give bit-identical results in the native and Wasm builds (scores compared across
// them in tests and benches), so it uses basic IEEE operations only, never libm's transcendentals.
#pragma once

#include <cmath>

namespace ec {

// ln(x) for x >= 1 (frexp is exact): an atanh series on the mantissa m in [sqrt(1/2), sqrt(2)),
// where |s| <= 0.172, so 16 odd terms reach full double precision.
inline double deterministic_ln(double x) {
  constexpr double kLn2 = 0.693147180559945309417232121458176568;
  int e = 0;
  double m = std::frexp(x, &e);
  if (m < 0.70710678118654752440) {
    m *= 2;
    e -= 1;
  }
  const double s = (m - 1) / (m + 1);
  const double s2 = s * s;
  double term = s;
  double sum = 0;
  for (int k = 1; k <= 31; k += 2) {
    sum += term / k;
    term *= s2;
  }
  return e * kLn2 + 2 * sum;
}

}  // namespace ec
