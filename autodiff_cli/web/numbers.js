// Numbers written exactly as the command line writes them (Python's float formatting): the same
// digits, rounded half to even on the double's exact value (not toFixed's half up), -0 kept.
"use strict";

const BIG_TEN = 10n;

// |x| = mantissa * 2^exponent, exactly.
function decompose(x) {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const high = view.getUint32(0);
  const low = view.getUint32(4);
  const biased = (high >>> 20) & 0x7ff;
  let mantissa = (BigInt(high & 0xfffff) << 32n) | BigInt(low);
  if (biased !== 0) mantissa |= 1n << 52n;
  return { negative: high >>> 31 === 1, mantissa, exponent: biased === 0 ? -1074 : biased - 1075 };
}

// round(|x| * 10^k), half to even, exactly.
function scaledRound(parts, k) {
  let numerator = parts.mantissa;
  let denominator = 1n;
  if (k >= 0) numerator *= BIG_TEN ** BigInt(k); else denominator *= BIG_TEN ** BigInt(-k);
  if (parts.exponent >= 0) numerator <<= BigInt(parts.exponent); else denominator <<= BigInt(-parts.exponent);
  let quotient = numerator / denominator;
  const twice = 2n * (numerator % denominator);
  if (twice > denominator || (twice === denominator && quotient % 2n === 1n)) quotient += 1n;
  return quotient;
}

function withPoint(digits, decimals) {
  if (decimals === 0) return digits;
  const padded = digits.padStart(decimals + 1, "0");
  return padded.slice(0, padded.length - decimals) + "." + padded.slice(padded.length - decimals);
}

// Python's text for a number that is not finite (the page shows none: callers keep them out).
function nonFinite(x) {
  return Number.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf";
}

// Python's f"{x:.{p}f}".
function formatFixed(x, p) {
  if (!Number.isFinite(x)) return nonFinite(x);
  const parts = decompose(x);
  return (parts.negative ? "-" : "") + withPoint(scaledRound(parts, p).toString(), p);
}

// The digits and decimal exponent of x rounded to p + 1 significant digits.
function significant(x, p) {
  const parts = decompose(x);
  if (parts.mantissa === 0n) return { negative: parts.negative, digits: "0".repeat(p + 1), exponent: 0 };
  let k = Math.floor(Math.log10(Math.abs(x)));
  for (;;) {
    const digits = scaledRound(parts, p - k).toString();
    if (digits.length > p + 1) k += 1;
    else if (digits.length < p + 1) k -= 1;
    else return { negative: parts.negative, digits, exponent: k };
  }
}

function exponentText(k) {
  return (k < 0 ? "-" : "+") + String(Math.abs(k)).padStart(2, "0");
}

// Python's f"{x:.{p}e}".
function formatExponent(x, p) {
  if (!Number.isFinite(x)) return nonFinite(x);
  const s = significant(x, p);
  const mantissa = p === 0 ? s.digits : s.digits[0] + "." + s.digits.slice(1);
  return (s.negative ? "-" : "") + mantissa + "e" + exponentText(s.exponent);
}

// Python's f"{x:.{p}g}".
function formatGeneral(x, p) {
  if (!Number.isFinite(x)) return nonFinite(x);
  p = Math.max(p, 1);
  const s = significant(x, p - 1);
  const sign = s.negative ? "-" : "";
  if (s.exponent >= -4 && s.exponent < p) {
    const text = formatFixed(x, p - 1 - s.exponent);
    return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
  }
  let mantissa = s.digits[0] + (p > 1 ? "." + s.digits.slice(1) : "");
  if (mantissa.includes(".")) mantissa = mantissa.replace(/\.?0+$/, "");
  return sign + mantissa + "e" + exponentText(s.exponent);
}

// Python's repr(x) of a float: the shortest digits that read back, fixed from 1e-4 up to 1e16.
function pythonRepr(x) {
  if (!Number.isFinite(x)) return nonFinite(x);
  const negative = x < 0 || Object.is(x, -0);
  const [mantissa, exponentPart] = Math.abs(x).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const k = Number(exponentPart);
  let text;
  if (k >= -4 && k < 16) {
    if (k >= digits.length - 1) text = digits + "0".repeat(k - digits.length + 1) + ".0";
    else if (k >= 0) text = digits.slice(0, k + 1) + "." + digits.slice(k + 1);
    else text = "0." + "0".repeat(-k - 1) + digits;
  } else {
    text = (digits.length > 1 ? digits[0] + "." + digits.slice(1) : digits) + "e" + exponentText(k);
  }
  return (negative ? "-" : "") + text;
}

// The tables' format (tables.format_number): `precision` decimals, unless that drops significant
// digits (0.00012345 would show 0.0001) or the number is huge: then scientific notation.
function formatNumber(x, precision) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "-";   // never NaN or Infinity on a screen
  const a = Math.abs(x);
  if (a >= 1e12) return formatExponent(x, precision);
  const fixed = formatFixed(x, precision);
  if (x === 0 || a >= 0.1 || Number(fixed) === Number(formatGeneral(x, precision))) return fixed;
  return formatExponent(x, precision);
}
