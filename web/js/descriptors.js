/*
 * descriptors.js — small facts about descriptors shared by cards and charts.
 *
 * The dashboard knows no metric, plugin or chart by name: everything it
 * draws follows from these fields (see docs/protocol.md).
 */

const DEFAULT_PRIORITY = 1000;

export const KIND = Object.freeze({ GAUGE: "gauge", COUNTER: "counter", HISTOGRAM: "histogram", TEXT: "text" });

/* Histogram values are [count, mean, p50, p95, p99]. */
export const HIST = Object.freeze({ COUNT: 0, MEAN: 1, P50: 2, P95: 3, P99: 4 });

export function priorityOf(d) {
  return typeof d.priority === "number" && Number.isFinite(d.priority) ? d.priority : DEFAULT_PRIORITY;
}

/* A copy sorted by priority; equal priorities keep the host's order. */
export function byPriority(descs) {
  return descs
    .map((d, i) => ({ d, i }))
    .sort((a, b) => priorityOf(a.d) - priorityOf(b.d) || a.i - b.i)
    .map((x) => x.d);
}

/* Keeps only well-formed descriptors (an object with a string id). */
export function sanitize(list) {
  if (!Array.isArray(list)) return [];
  return list.filter((d) => d && typeof d === "object" && typeof d.id === "string");
}

export function precisionOf(d, fallback) {
  return Number.isInteger(d.precision) ? d.precision : fallback;
}

export function titleOf(d) {
  return typeof d.title === "string" && d.title ? d.title : d.id;
}
