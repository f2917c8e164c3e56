import { Writable } from 'node:stream';
import { expect } from 'chai';
import type { ModelDeploymentConfig } from '../../src/config/litellm-config';
import { createLogger } from '../../src/observability/logger';
import { DatabaseModelRefresh } from '../../src/server/database-models';
import type { DatabaseModelList } from '../../src/store/db-model-list';
import { eventually } from '../support/poll';

const model = (name: string): ModelDeploymentConfig => ({ model_name: name, litellm_params: {}, model_info: { id: name } });

/** A refresh whose reads answer from a script, and what it applied and logged. */
function harness(reads: Array<DatabaseModelList | Error>) {
  const applied: string[][] = [];
  const lines: string[] = [];
  let calls = 0;
  const logger = createLogger('info', new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) }));
  const refresh = new DatabaseModelRefresh({
    read: () => {
      const next = reads[Math.min(calls, reads.length - 1)];
      calls += 1;
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
    apply: (models) => applied.push(models.map((m) => m.model_name)),
    refreshMs: 5,
    logger,
  });
  return { refresh, applied, lines, calls: () => calls };
}

describe('the model list from the database, kept fresh', () => {
  it('applies the first list before start resolves, then each change once, never an unchanged one', async () => {
    const first = { models: [model('a')], skipped: 0 };
    const { refresh, applied, calls } = harness([first, first, first, { models: [model('a'), model('b')], skipped: 0 }]);
    await refresh.start();
    expect(applied).to.deep.equal([['a']]);
    await eventually(() => Promise.resolve(calls()), (n) => n >= 6, { limitMs: 5_000, everyMs: 5 });
    refresh.stop();
    expect(applied).to.deep.equal([['a'], ['a', 'b']]);
  });

  it('refuses to start without a first list (the replica must not serve without it)', async () => {
    const { refresh, applied } = harness([new Error('database away')]);
    const failure = await refresh.start().then(
      () => null,
      (error: Error) => error,
    );
    refresh.stop();
    expect(failure?.message).to.equal('database away');
    expect(applied).to.deep.equal([]);
  });

  it('keeps the last list through failed reads, says so once, and says when it reads again', async () => {
    const list = { models: [model('a')], skipped: 0 };
    const { refresh, applied, lines, calls } = harness([list, new Error('away'), new Error('away'), new Error('away'), { models: [model('c')], skipped: 1 }]);
    await refresh.start();
    await eventually(() => Promise.resolve(calls()), (n) => n >= 6, { limitMs: 5_000, everyMs: 5 });
    refresh.stop();
    expect(applied).to.deep.equal([['a'], ['c']]);
    const text = lines.join('');
    expect(text.match(/read failed; the last one stays/g)).to.have.length(1);
    expect(text).to.include('read again').and.include('were left out');
  });
});
