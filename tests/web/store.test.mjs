// store.test.mjs — the dashboard's sample store (web/js/store.js), a module
// without DOM, imported as the page imports it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const { Store } = await import(pathToFileURL(path.join(here, '..', '..', 'web', 'js', 'store.js')).href);

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
