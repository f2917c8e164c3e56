import { expect } from 'chai';
import { gatheringLoader } from '../../src/util/batch-loader';

interface Calls {
  readonly many: string[][];
  readonly one: string[];
}

/** Rows exist for ids starting with "row-"; "gone-" ids exist for neither lookup. */
function loaderOver(calls: Calls, options: { failMany?: boolean; failOne?: string; windowMs?: number; maxBatch?: number } = {}) {
  return gatheringLoader<string>(
    async (ids) => {
      calls.many.push([...ids]);
      if (options.failMany === true) throw new Error('database down');
      return new Map(ids.filter((id) => id.startsWith('row-')).map((id) => [id, `value of ${id}`]));
    },
    async (id) => {
      calls.one.push(id);
      if (id === options.failOne) throw new Error(`cannot load ${id}`);
      return id.startsWith('Row-') ? `value of ${id.toLowerCase()}` : null;
    },
    options.windowMs ?? 5,
    options.maxBatch ?? 100,
  );
}

describe('gatheringLoader (background revalidation gathered into one statement)', () => {
  it('loads the ids asked for within the window with one call, each waiter getting its own answer', async () => {
    const calls: Calls = { many: [], one: [] };
    const load = loaderOver(calls);
    const answers = await Promise.all([load('row-1'), load('row-2'), load('row-1'), load('row-3')]);
    expect(answers).to.deep.equal(['value of row-1', 'value of row-2', 'value of row-1', 'value of row-3']);
    expect(calls.many).to.deep.equal([['row-1', 'row-2', 'row-3']]);
    expect(calls.one).to.deep.equal([]);
  });

  it('asks the single lookup for every id the batch did not return (gone, or matched without being equal)', async () => {
    const calls: Calls = { many: [], one: [] };
    const load = loaderOver(calls);
    const answers = await Promise.all([load('row-1'), load('gone-1'), load('Row-2')]);
    expect(answers).to.deep.equal(['value of row-1', null, 'value of row-2']);
    expect(calls.many).to.deep.equal([['row-1', 'gone-1', 'Row-2']]);
    expect(calls.one).to.deep.equal(['gone-1', 'Row-2']);
  });

  it('starts a new gathering after each flush', async () => {
    const calls: Calls = { many: [], one: [] };
    const load = loaderOver(calls);
    await load('row-1');
    await Promise.all([load('row-2'), load('row-3')]);
    expect(calls.many).to.deep.equal([['row-1'], ['row-2', 'row-3']]);
  });

  it('flushes at once when a batch is full, without waiting for the window', async () => {
    const calls: Calls = { many: [], one: [] };
    const load = loaderOver(calls, { windowMs: 60_000, maxBatch: 3 });
    const first = Promise.all(['row-1', 'row-2', 'row-3'].map(load));
    expect(await first).to.deep.equal(['value of row-1', 'value of row-2', 'value of row-3']);
    expect(calls.many).to.deep.equal([['row-1', 'row-2', 'row-3']]);
  });

  it('fails every waiter of a batch whose call fails, and only the waiters of a single lookup that fails', async () => {
    const down: Calls = { many: [], one: [] };
    const failing = loaderOver(down, { failMany: true });
    const outcomes = await Promise.allSettled([failing('row-1'), failing('row-2')]);
    expect(outcomes.map((o) => o.status)).to.deep.equal(['rejected', 'rejected']);

    const calls: Calls = { many: [], one: [] };
    const load = loaderOver(calls, { failOne: 'gone-2' });
    const mixed = await Promise.allSettled([load('row-1'), load('gone-2'), load('gone-3')]);
    expect(mixed.map((o) => o.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('settles every waiter even when a loader throws instead of rejecting', async () => {
    const throwing = gatheringLoader<string>(
      () => {
        throw new Error('thrown before any promise');
      },
      async () => null,
      5,
      100,
    );
    const outcomes = await Promise.allSettled([throwing('a'), throwing('b')]);
    expect(outcomes.map((o) => o.status)).to.deep.equal(['rejected', 'rejected']);

    const throwingOne = gatheringLoader<string>(
      async () => new Map(),
      (id) => {
        if (id === 'bad') throw new Error('thrown before any promise');
        return Promise.resolve(`value of ${id}`);
      },
      5,
      100,
    );
    const mixed = await Promise.allSettled([throwingOne('bad'), throwingOne('good')]);
    expect(mixed.map((o) => o.status)).to.deep.equal(['rejected', 'fulfilled']);
  });
});
