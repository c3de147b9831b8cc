/*
 * format.js — numbers with units, and card threshold levels.
 *
 * Pure functions (no DOM), so they can be tested under Node as well.
 * Units are the descriptor's `unit`: percent, bytes, MiB, seconds, ratio,
 * count, per_minute, "" or anything else (appended as is).
 */

const DASH = "\u2014";                      /* shown for "no value" */
const numberFormats = new Map();

/* A cached Intl formatter with exactly `digits` fraction digits. */
function nf(digits) {
  let f = numberFormats.get(digits);
  if (!f) {
    f = new Intl.NumberFormat("en-US", {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    numberFormats.set(digits, f);
  }
  return f;
}

function clampDigits(p, fallback) {
  const n = Number.isInteger(p) ? p : fallback;
  return Math.min(Math.max(n, 0), 10);
}

/* Digits for a value shown in a scaled unit (KiB, ms, …): about 3 significant. */
function scaledDigits(v) {
  const a = Math.abs(v);
  return a >= 100 ? 0 : a >= 10 ? 1 : 2;
}

export function isNumber(v) {
  return typeof v === "number" && Number.isFinite(v);
}

/* A plain number with thousands separators and `digits` decimals. */
export function formatNumber(v, digits = 0) {
  if (!isNumber(v)) return DASH;
  const s = nf(clampDigits(digits, 0)).format(v);
  return s === "-0" || /^-0\.0*$/.test(s) ? s.slice(1) : s;
}

/* Picks the largest step of `steps` (each [factor, label]) not above |v|. */
function pickScale(v, steps) {
  const a = Math.abs(v);
  let best = steps[0];
  for (const s of steps) if (a >= s[0]) best = s;
  return best;
}

const BYTE_STEPS = [[1, "B"], [1024, "KiB"], [1024 ** 2, "MiB"], [1024 ** 3, "GiB"], [1024 ** 4, "TiB"], [1024 ** 5, "PiB"]];
const MIB_STEPS = [[1, "MiB"], [1024, "GiB"], [1024 ** 2, "TiB"]];
const SECOND_STEPS = [[1e-9, "ns"], [1e-6, "\u00b5s"], [1e-3, "ms"], [1, "s"]];

/* `baseDigitsFallback` null: about 3 significant digits in the base unit too ("1.50 s", "75.0 s"). */
function scaled(v, steps, precision, baseDigitsFallback) {
  if (v === 0) return ["0", steps.find((s) => s[0] === 1)[1]];
  const [factor, label] = pickScale(v, steps);
  const x = v / factor;
  let digits = scaledDigits(x);
  if (factor === 1 && (Number.isInteger(precision) || baseDigitsFallback !== null)) digits = clampDigits(precision, baseDigitsFallback);
  return [formatNumber(x, digits), label];
}

/*
 * Splits a value into [number text, unit text] for display; the unit text may
 * be "" (count and unit-less values). Use formatValue() for a single string.
 */
export function formatParts(v, unit, precision) {
  if (!isNumber(v)) return [DASH, ""];
  switch (unit || "") {
    case "percent":
      return [formatNumber(v, clampDigits(precision, 1)), "%"];
    case "ratio":
      return [formatNumber(v * 100, Math.max(clampDigits(precision, 3) - 2, 0)), "%"];
    case "bytes":
      return scaled(v, BYTE_STEPS, precision, 0);
    case "MiB":
      return scaled(v, MIB_STEPS, precision, 1);
    case "seconds":
      return scaled(v, SECOND_STEPS, precision, null);
    case "per_minute":
      return [formatNumber(v, clampDigits(precision, 0)), "/min"];
    case "count":
    case "":
      return [formatNumber(v, clampDigits(precision, 0)), ""];
    default:
      return [formatNumber(v, clampDigits(precision, 2)), unit];
  }
}

/* "12.3 %", "1.50 GiB", "12.0 ms", "1,234", "3 /min", "7 widgets". */
export function formatValue(v, unit, precision) {
  const [num, u] = formatParts(v, unit, precision);
  return u && num !== DASH ? `${num} ${u}` : num;
}

/* A counter's rate per second: "12.5 /s", "1.20 MiB/s". */
export function formatRate(v, unit, precision) {
  if (!isNumber(v)) return DASH;
  const p = v === 0 || Math.abs(v) >= 10 ? 0 : Math.max(clampDigits(precision, 0), 1);
  const [num, u] = formatParts(v, unit, p);
  return u ? `${num} ${u}/s` : `${num} /s`;
}

/* The unit shown next to an axis. */
export function unitLabel(unit, isRate = false) {
  /* Tick labels carry the scaled unit (KiB, ms, …); the axis names the quantity. */
  const names = { percent: "%", ratio: "%", bytes: "bytes", MiB: "bytes", seconds: "seconds", per_minute: "per minute", count: "" };
  const base = unit in names ? names[unit] : unit || "";
  if (!isRate) return base;
  return base ? `${base} /s` : "per second";
}

/* How many decimals a tick step needs: 2.5 → 1, 0.05 → 2, 20 → 0. */
function decimalsOf(x) {
  if (!isNumber(x) || x === 0) return 0;
  const s = String(Number(Math.abs(x).toPrecision(6)));
  if (s.includes("e-")) return Math.min(Number(s.split("e-")[1]) + 1, 9);
  const dot = s.indexOf(".");
  return dot < 0 ? 0 : Math.min(s.length - dot - 1, 6);
}

/* Tick steps for byte-sized axes: powers of two of each binary unit. */
export function binaryIncrs(unit) {
  const base = unit === "MiB" ? [0.25, 0.5] : [];
  const out = [...base];
  for (let p = 0; p <= 5; p++) {
    for (let m = 1; m < 1024; m *= 2) out.push(m * 1024 ** p);
  }
  return out;
}

/*
 * Tick labels for an axis: one scale for the whole axis (picked by its largest
 * tick), and as many decimals as the tick step needs.
 */
export function formatTicks(splits, unit, isRate = false) {
  const finite = splits.filter(isNumber);
  if (finite.length === 0) return splits.map(() => "");
  const maxAbs = Math.max(...finite.map(Math.abs));
  const step = finite.length > 1 ? Math.abs(finite[1] - finite[0]) : maxAbs || 1;
  let factor = 1;
  let label = "";
  let mult = 1;
  switch (unit || "") {
    case "percent": label = "%"; break;
    case "ratio": label = "%"; mult = 100; break;
    case "bytes": [factor, label] = pickScale(maxAbs, BYTE_STEPS); break;
    case "MiB": [factor, label] = pickScale(maxAbs, MIB_STEPS); break;
    case "seconds": [factor, label] = maxAbs === 0 ? [1, "s"] : pickScale(maxAbs, SECOND_STEPS); break;
    case "per_minute": label = "/min"; break;
    case "count": case "": break;
    default: label = unit;
  }
  if (isRate) label = label ? `${label}/s` : "/s";
  const digits = Math.min(decimalsOf((step * mult) / factor), 3);
  const sep = label.startsWith("/") || label === "%" ? "" : " ";
  return splits.map((v) => (isNumber(v) ? `${formatNumber((v * mult) / factor, digits)}${label ? sep + label : ""}` : ""));
}

/*
 * A card's level for value `v`: "crit", "warn", "ok" (thresholds set and not
 * passed) or "" (no thresholds, or no value). `lower_is_worse` flips the test.
 */
export function levelFor(desc, v) {
  if (!isNumber(v)) return "";
  const hasWarn = isNumber(desc.warn);
  const hasCrit = isNumber(desc.crit);
  if (!hasWarn && !hasCrit) return "";
  const past = desc.lower_is_worse ? (t) => v <= t : (t) => v >= t;
  if (hasCrit && past(desc.crit)) return "crit";
  if (hasWarn && past(desc.warn)) return "warn";
  return "ok";
}

let clockFormat = null;

/*
 * "14:03:09" in the viewer's time zone, for a unix time in seconds. One
 * cached formatter: toLocaleTimeString() with options builds a new one per
 * call, which made clock labels the most expensive part of a chart update.
 */
export function formatClock(ts) {
  if (!isNumber(ts)) return DASH;
  if (!clockFormat) {
    clockFormat = new Intl.DateTimeFormat([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  }
  return clockFormat.format(ts * 1000);
}

export { DASH };
