// store.test.mjs — the dashboard's sample store (web/js/store.js), a module
// without DOM, imported as the page imports it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const { Store, StreamDecoder, CARRY, carries } =
  await import(pathToFileURL(path.join(here, '..', '..', 'web', 'js', 'store.js')).href);

const ids = ['a', 'b'];
const hello = (ts, a, b) => ({ ts, seq: ts.map((_, i) => 100 + i), values: [a, b] });

describe('store', () => {
  it('takes the first hello as it is', () => {
    const s = new Store();
    s.setIds(ids);
    s.merge(hello([10, 11, 12], [1, 2, 3], [null, [1, 0.5], 4]), ids);
    assert.deepEqual(s.ts, [10, 11, 12]);
    assert.deepEqual(s.seq, [100, 101, 102]);
    assert.deepEqual(s.column('a'), [1, 2, 3]);
    assert.deepEqual(s.column('b'), [null, [1, 0.5], 4]);
    assert.equal(s.lastTs, 12);
  });

  it('gives ids the hello has no column for a column of nulls', () => {
    const s = new Store();
    s.setIds(['a', 'b', 'c']);
    s.merge(hello([10, 11], [1, 2], [3, 4]), ids);
    assert.deepEqual(s.column('c'), [null, null]);
  });

  it('merges a hello into held samples without duplicating points', () => {
    const s = new Store();
    s.setIds(ids);
    s.append(11, 101, ids, [20, 21]);
    s.append(13, 103, ids, [40, 41]);
    s.merge(hello([10, 11, 12], [1, 2, 3], [4, 5, 6]), ids);
    assert.deepEqual(s.ts, [10, 11, 12, 13]);
    assert.deepEqual(s.column('a'), [1, 2, 3, 40]);
  });

  it('sorts a first hello that is out of order, and drops repeated times', () => {
    const s = new Store();
    s.setIds(ids);
    s.merge(hello([12, 10, 10, 11], [3, 1, 1, 2], [6, 4, 4, 5]), ids);
    assert.deepEqual(s.ts, [10, 11, 12]);
    assert.deepEqual(s.column('a'), [1, 2, 3]);
  });

  it('keeps the retention window', () => {
    const s = new Store(5, 100);
    s.setIds(ids);
    s.merge(hello([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6, 7, 8], [0, 0, 0, 0, 0, 0, 0, 0]), ids);
    assert.deepEqual(s.ts, [3, 4, 5, 6, 7, 8]);
    assert.deepEqual(s.column('a'), [3, 4, 5, 6, 7, 8]);
  });
});

// Protocol 2 (docs/protocol.md, "Slow metrics"): a metric with stream_every
// E > 1 is in sample `seq` only when (seq + its index) % E == 0.
describe('the trimmed stream', () => {
  // Two every-sample metrics, then two slow ones, as the host orders them.
  const descs = [{ id: 'f1' }, { id: 'f2' }, { id: 's1', stream_every: 5 }, { id: 's2', stream_every: 5 }];
  const all = descs.map((d) => d.id);

  /** What the host sends for `seq` when the full row is `row` (its encoder, in JS). */
  const sample = (seq, row) => ({
    type: 'sample', seq, ts: seq, values: row.filter((_, i) => carries(descs[i].stream_every ?? 1, i, seq)),
  });
  /** A page's decoder and store after `hello`. */
  const page = (hello) => {
    const decoder = new StreamDecoder();
    const store = new Store();
    const h = decoder.decode(hello);
    const ids = h.descriptors.map((d) => d.id);
    store.setIds(ids);
    store.merge(h.history, ids);
    const feed = (msg) => {
      const m = decoder.decode(msg);
      if (m.type === 'descriptors') {
        feed.ids = m.descriptors.map((d) => d.id);
        store.setIds(feed.ids);
      } else {
        store.append(m.ts, m.seq, feed.ids, m.values);
      }
    };
    feed.ids = ids;
    return { decoder, store, feed };
  };
  const emptyHello = { type: 'hello', protocol: 2, descriptors: descs, history: { seq: [], ts: [], values: [[], [], [], []] } };

  it('staggers slow metrics: index 2 is due when (seq + 2) % 5 == 0, index 3 a sample earlier', () => {
    const due = (seq) => [0, 1, 2, 3].filter((i) => carries(descs[i].stream_every ?? 1, i, seq));
    assert.deepEqual(due(8), [0, 1, 2]);
    assert.deepEqual(due(7), [0, 1, 3]);
    assert.deepEqual(due(9), [0, 1]);
    assert.deepEqual(due(13), [0, 1, 2]);
  });

  it('expands a sample to one value per descriptor, CARRY where it has none', () => {
    const d = new StreamDecoder();
    d.decode({ type: 'descriptors', descriptors: descs });
    assert.deepEqual(d.decode({ type: 'sample', seq: 8, ts: 8, values: [1, 2, 'a'] }).values, [1, 2, 'a', CARRY]);
    assert.deepEqual(d.decode({ type: 'sample', seq: 9, ts: 9, values: [1, 2] }).values, [1, 2, CARRY, CARRY]);
    // a sample shorter than it should be: what is missing is a gap, not a carry
    assert.deepEqual(d.decode({ type: 'sample', seq: 7, ts: 7, values: [1] }).values, [1, null, CARRY, null]);
    // without slow metrics (or from a protocol-1 host) values pass as they are
    d.decode({ type: 'descriptors', descriptors: [{ id: 'f1' }, { id: 'f2' }] });
    const values = [1, 2];
    assert.equal(d.decode({ type: 'sample', seq: 8, ts: 8, values }).values, values);
  });

  it('carries the previous value forward, so charts have no false gaps', () => {
    const { store, feed } = page(emptyHello);
    for (let seq = 5; seq <= 14; seq++) feed(sample(seq, [seq, -seq, `s1@${seq}`, `s2@${seq}`]));
    assert.deepEqual(store.column('f1'), [5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    // s1 is due at 8 and 13, s2 at 7 and 12; before its first value a metric has none
    assert.deepEqual(store.column('s1'), [null, null, null, 's1@8', 's1@8', 's1@8', 's1@8', 's1@8', 's1@13', 's1@13']);
    assert.deepEqual(store.column('s2'), [null, null, 's2@7', 's2@7', 's2@7', 's2@7', 's2@7', 's2@12', 's2@12', 's2@12']);
  });

  it('decodes a sample after skipped ones (a slow client gets only the newest)', () => {
    const { store, feed } = page(emptyHello);
    feed(sample(7, [1, 1, 'x', 'y7']));
    feed(sample(8, [2, 2, 'x8', 'y']));
    feed(sample(12, [3, 3, 'x', 'y12'])); // 9, 10, 11 dropped by the host's queue
    feed(sample(14, [4, 4, 'x', 'y']));   // 13, which had s1, dropped too
    assert.deepEqual(store.seq, [7, 8, 12, 14]);
    assert.deepEqual(store.column('f2'), [1, 2, 3, 4]);
    assert.deepEqual(store.column('s1'), [null, 'x8', 'x8', 'x8']);
    assert.deepEqual(store.column('s2'), ['y7', 'y7', 'y12', 'y12']);
  });

  it('fills a thinned hello column, and the stream carries on from its last value', () => {
    // seq 5..9: s1 (index 2) was due at 8 only, s2 (index 3) at 7 only
    const hello = {
      type: 'hello', protocol: 2, descriptors: descs,
      history: { seq: [5, 6, 7, 8, 9], ts: [5, 6, 7, 8, 9], values: [[1, 2, 3, 4, 5], [0, 0, 0, 0, 0], ['h8'], [[1, 0.5]]] },
    };
    const { store, feed } = page(hello);
    assert.deepEqual(store.column('s1'), [null, null, null, 'h8', 'h8']);
    assert.deepEqual(store.column('s2'), [null, null, [1, 0.5], [1, 0.5], [1, 0.5]]);
    feed(sample(10, [6, 0, 'n', 'n']));
    assert.deepEqual(store.column('f1'), [1, 2, 3, 4, 5, 6]);
    assert.equal(store.latest('s1'), 'h8');
    assert.deepEqual(store.latest('s2'), [1, 0.5]);
  });

  it('follows a descriptors change: new places, kept values, new metrics empty until due', () => {
    const { store, feed } = page(emptyHello);
    feed(sample(7, [1, 1, 'a', 'b7']));
    feed(sample(8, [2, 2, 'a8', 'b']));
    // f0 registered: every-sample metrics first, so the slow ones move down one place;
    // s0 is new and slow: index 4, due when (seq + 4) % 5 == 0
    const next = [{ id: 'f0' }, ...descs.slice(0, 2), descs[2], descs[3], { id: 's0', stream_every: 5 }];
    feed({ type: 'descriptors', descriptors: next });
    const host = (seq, row) => ({
      type: 'sample', seq, ts: seq, values: row.filter((_, i) => carries(next[i].stream_every ?? 1, i, seq)),
    });
    feed(host(9, [0, 3, 3, 'a9', 'b9', 'z9']));
    feed(host(10, [0, 4, 4, 'a10', 'b10', 'z10']));
    feed(host(11, [0, 5, 5, 'a11', 'b11', 'z11']));
    assert.deepEqual(store.column('f1'), [1, 2, 3, 4, 5]);
    assert.deepEqual(store.column('f0'), [null, null, 0, 0, 0]);
    // s1 at index 3 is due at 12, 17 …: carried from seq 8 meanwhile
    assert.deepEqual(store.column('s1'), [null, 'a8', 'a8', 'a8', 'a8']);
    // s2 at index 4 is due at 11
    assert.deepEqual(store.column('s2'), ['b7', 'b7', 'b7', 'b7', 'b11']);
    // s0 at index 5 is due at 10
    assert.deepEqual(store.column('s0'), [null, null, null, 'z10', 'z10']);
  });

  it('a CARRY into a sample it already holds keeps the value there', () => {
    const s = new Store();
    s.setIds(['a', 'b']);
    s.append(10, 1, ['a', 'b'], [1, 2]);
    s.append(10, 1, ['a', 'b'], [3, CARRY]);
    assert.deepEqual(s.column('a'), [3]);
    assert.deepEqual(s.column('b'), [2]);
    // out of order: it takes the value of the sample before it
    s.append(12, 3, ['a', 'b'], [5, 6]);
    s.append(11, 2, ['a', 'b'], [4, CARRY]);
    assert.deepEqual(s.ts, [10, 11, 12]);
    assert.deepEqual(s.column('b'), [2, 2, 6]);
  });
});
