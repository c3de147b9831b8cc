/*
 * store.js — the samples the page has seen, keyed by metric id.
 *
 * One shared time column (`ts`, seconds, oldest first, with the host's `seq`
 * beside it) and one value column per metric id. Columns are keyed by id, not
 * by position, so a new descriptor list keeps the data of every metric whose
 * id persists, and a reconnect merges the hello history into what is already
 * here without duplicating points. No DOM.
 *
 * StreamDecoder turns protocol 2's trimmed stream back into one value per
 * descriptor: a slow metric (`stream_every` E > 1) is in a sample only when
 * (seq + its index) % E == 0 (docs/protocol.md, "Slow metrics"); in the
 * others it is CARRY, and the store repeats the metric's previous value, so
 * its chart runs on without false gaps.
 */

/* Two points are the same sample when their times agree this closely. */
const SAME_TS = 1e-4;

/* In a sample's values: "not carried this time, keep the previous value". */
export const CARRY = Symbol("carry");

/* Descriptor i's stream_every (1 when absent or not a whole number > 1). */
function everyOf(descriptors) {
  if (!Array.isArray(descriptors)) return [];
  return descriptors.map((d) => (d && Number.isInteger(d.stream_every) && d.stream_every > 1 ? d.stream_every : 1));
}

/* Whether sample `seq` carries the descriptor at `index` whose stream_every is `every`. */
export function carries(every, index, seq) {
  return every <= 1 || (seq + index) % every === 0;
}

/*
 * Follows the host's descriptor lists (hello, descriptors) to know which
 * values each sample carries; decode() rewrites a message in place into
 * the store's terms and returns it.  One per connection: each starts with
 * a hello, which resets it.
 */
export class StreamDecoder {
  constructor() {
    this.every = [];
  }

  decode(msg) {
    if (!msg || typeof msg !== "object") return msg;
    if (msg.type === "hello" || msg.type === "descriptors") {
      this.every = everyOf(msg.descriptors);
      if (msg.type === "hello" && msg.history && typeof msg.history === "object") this.#fillHistory(msg.history);
    } else if (msg.type === "sample" && Array.isArray(msg.values) && Number.isInteger(msg.seq)) {
      msg.values = this.expand(msg.seq, msg.values);
    }
    return msg;
  }

  /* One value per descriptor from the carried ones: CARRY where sample `seq` has none. */
  expand(seq, values) {
    if (!this.every.some((e) => e > 1)) return values;
    const out = new Array(this.every.length);
    let next = 0;
    for (let i = 0; i < this.every.length; i++) {
      if (!carries(this.every[i], i, seq)) out[i] = CARRY;
      else out[i] = next < values.length ? values[next++] : null;
    }
    return out;
  }

  /*
   * The hello's columns of slow metrics hold only the samples that carried
   * them: spread each over every row (history.seq), repeating the last
   * value (null before the first), as the stream would have shown it.
   */
  #fillHistory(history) {
    const seq = Array.isArray(history.seq) ? history.seq : [];
    const cols = Array.isArray(history.values) ? history.values : [];
    for (let i = 0; i < cols.length && i < this.every.length; i++) {
      const every = this.every[i];
      if (every <= 1 || !Array.isArray(cols[i])) continue;
      const sent = cols[i];
      const full = new Array(seq.length);
      let next = 0;
      let last = null;
      for (let j = 0; j < seq.length; j++) {
        if (Number.isInteger(seq[j]) && carries(every, i, seq[j]) && next < sent.length) last = sent[next++];
        full[j] = last;
      }
      cols[i] = full;
    }
  }
}

export class Store {
  /* Keeps `retainSeconds` of samples, and never more than `maxPoints`. */
  constructor(retainSeconds = 600, maxPoints = 6000) {
    this.retainSeconds = retainSeconds;
    this.maxPoints = maxPoints;
    this.ts = [];
    this.seq = [];
    this.cols = new Map();
  }

  get length() {
    return this.ts.length;
  }

  get lastTs() {
    return this.ts.length ? this.ts[this.ts.length - 1] : null;
  }

  /* The column of `id` (aligned with `ts`), or undefined. */
  column(id) {
    return this.cols.get(id);
  }

  /* The newest value of `id` (null when the last sample had none). */
  latest(id) {
    const c = this.cols.get(id);
    return c && c.length ? c[c.length - 1] : null;
  }

  /*
   * Makes the columns match `ids`: new ids get a column of nulls, ids no
   * longer described are dropped, the others keep their data.
   */
  setIds(ids) {
    const keep = new Set(ids);
    for (const id of [...this.cols.keys()]) if (!keep.has(id)) this.cols.delete(id);
    for (const id of ids) {
      if (!this.cols.has(id)) this.cols.set(id, new Array(this.ts.length).fill(null));
    }
  }

  /*
   * Appends one sample; `values` is positional over `ids`, and CARRY in it
   * repeats the metric's previous value (it keeps the value already there
   * when the sample is one the store holds).
   */
  append(ts, seq, ids, values) {
    if (typeof ts !== "number" || !Number.isFinite(ts)) return false;
    const n = this.ts.length;
    const last = this.lastTs;
    if (n && ts < last - SAME_TS) {
      /* Out of order (should not happen): merge it like history. */
      const before = this.indexAtOrAfter(ts + SAME_TS) - 1;
      const value = (v, id) => (v !== CARRY ? v ?? null : before >= 0 ? this.cols.get(id)?.[before] ?? null : null);
      this.merge({ ts: [ts], seq: [seq], values: ids.map((id, i) => [value(values[i], id)]) }, ids);
      return true;
    }
    if (n && Math.abs(ts - last) <= SAME_TS) {
      this.#writeRow(n - 1, ids, values, false);
      return true;
    }
    this.ts.push(ts);
    this.seq.push(seq ?? null);
    for (const col of this.cols.values()) col.push(null);
    this.#writeRow(n, ids, values, true);
    this.trim();
    return true;
  }

  /* Writes row `row`; CARRY takes the row before when `fresh`, else keeps the cell. */
  #writeRow(row, ids, values, fresh) {
    for (let i = 0; i < ids.length; i++) {
      const col = this.cols.get(ids[i]);
      if (!col) continue;
      const v = values && i < values.length ? values[i] : null;
      if (v !== CARRY) col[row] = v ?? null;
      else if (fresh) col[row] = row > 0 ? col[row - 1] : null;
    }
  }

  /*
   * Merges a hello `history` ({seq, ts, values: one column per position of
   * `ids`}) into the store, ordered by time; a point already held (same ts,
   * or same seq at nearly the same ts) is taken from the history once.
   */
  merge(history, ids) {
    const hts = history && Array.isArray(history.ts) ? history.ts : [];
    if (hts.length === 0) return;
    const hseq = Array.isArray(history.seq) ? history.seq : [];
    const hvals = Array.isArray(history.values) ? history.values : [];
    if (this.ts.length === 0 && this.#adopt(hts, hseq, hvals, ids)) return;

    const rows = [];
    for (let i = 0; i < this.ts.length; i++) rows.push({ ts: this.ts[i], seq: this.seq[i], own: i });
    for (let j = 0; j < hts.length; j++) {
      if (typeof hts[j] === "number" && Number.isFinite(hts[j])) rows.push({ ts: hts[j], seq: hseq[j] ?? null, hist: j });
    }
    rows.sort((a, b) => a.ts - b.ts || (a.hist === undefined ? -1 : 1));

    const merged = [];
    for (const r of rows) {
      const prev = merged[merged.length - 1];
      const dup = prev && (Math.abs(r.ts - prev.ts) <= SAME_TS ||
        (r.seq != null && r.seq === prev.seq && Math.abs(r.ts - prev.ts) < 0.5));
      if (dup) {
        if (r.hist !== undefined) prev.hist = r.hist;
        if (r.own !== undefined) prev.own = r.own;
      } else {
        merged.push({ ...r });
      }
    }

    const pos = new Map(ids.map((id, i) => [id, i]));
    const cols = new Map();
    for (const [id, old] of this.cols) {
      const p = pos.get(id);
      const hcol = p !== undefined ? hvals[p] : undefined;
      cols.set(id, merged.map((r) => {
        if (r.hist !== undefined && Array.isArray(hcol)) return hcol[r.hist] ?? null;
        return r.own !== undefined ? old[r.own] ?? null : null;
      }));
    }
    this.ts = merged.map((r) => r.ts);
    this.seq = merged.map((r) => r.seq);
    this.cols = cols;
    this.trim();
  }

  /*
   * The first hello into an empty store, as the host sends it (times in
   * order, one full column per id): its columns become the store's as they
   * are, without the row-by-row merge.  False when it is not that simple.
   */
  #adopt(hts, hseq, hvals, ids) {
    const n = hts.length;
    for (let j = 0; j < n; j++) {
      if (typeof hts[j] !== "number" || !Number.isFinite(hts[j]) || (j && hts[j] - hts[j - 1] <= SAME_TS)) return false;
    }
    const pos = new Map(ids.map((id, i) => [id, i]));
    for (const id of this.cols.keys()) {
      const p = pos.get(id);
      if (p !== undefined && hvals[p] !== undefined && !(Array.isArray(hvals[p]) && hvals[p].length === n)) return false;
    }
    this.ts = hts.slice();
    this.seq = Array.from(hts, (_, j) => hseq[j] ?? null);
    for (const id of this.cols.keys()) {
      const p = pos.get(id);
      this.cols.set(id, p !== undefined && hvals[p] !== undefined ? hvals[p] : new Array(n).fill(null));
    }
    this.trim();
    return true;
  }

  /* Drops samples older than the retention window or beyond maxPoints. */
  trim() {
    const n = this.ts.length;
    if (!n) return;
    const horizon = this.ts[n - 1] - this.retainSeconds;
    let cut = 0;
    while (cut < n && this.ts[cut] < horizon) cut++;
    cut = Math.max(cut, n - this.maxPoints);
    if (cut <= 0) return;
    this.ts.splice(0, cut);
    this.seq.splice(0, cut);
    for (const col of this.cols.values()) col.splice(0, cut);
  }

  /* Index of the first sample with ts >= t (binary search). */
  indexAtOrAfter(t) {
    let lo = 0;
    let hi = this.ts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ts[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/*
 * Rate per second of a counter column between consecutive points, over rows
 * [from, to) of `ts`; null on the first point, around gaps and on a reset
 * (a total that went down).
 */
export function counterRates(ts, col, from, to) {
  const out = new Array(Math.max(to - from, 0));
  for (let i = from; i < to; i++) {
    const prev = i > 0 ? col[i - 1] : null;
    const cur = col[i];
    const dt = i > 0 ? ts[i] - ts[i - 1] : 0;
    out[i - from] = typeof cur === "number" && typeof prev === "number" && cur >= prev && dt > 0
      ? (cur - prev) / dt : null;
  }
  return out;
}
