// erf and erfc for the page: JavaScript's Math has neither. Within a few units in the last place
// of Python's math.erf and math.erfc (tests/test_page.py checks them at many points).
"use strict";

const TWO_OVER_SQRT_PI = 1.1283791670955126;

// erf for |x| < 3: 2/sqrt(pi) * exp(-x²) * sum of 2^n x^(2n+1) / (1·3·...·(2n+1)), every term
// positive (no cancellation, as the alternating Taylor series has).
function erfSeries(x) {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 300 && Math.abs(term) > Math.abs(sum) * 1e-17; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

// erfc for x >= 0.8: exp(-x²)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated by
// Lentz's method.
function erfcFraction(x) {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    d = x + a * d;
    d = d === 0 ? 1 / tiny : 1 / d;
    c = x + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-17) break;
  }
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

function erf(x) {
  if (Number.isNaN(x)) return x;
  if (Math.abs(x) < 3) return erfSeries(x);
  return Math.sign(x) * (1 - erfcFraction(Math.abs(x)));
}

function erfc(x) {
  if (Number.isNaN(x)) return x;
  if (x < 0) return 2 - erfc(-x);
  if (x < 0.8) return 1 - erfSeries(x);
  return erfcFraction(x);
}
