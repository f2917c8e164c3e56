import { expect } from 'chai';
import { resolve } from 'node:path';
import { benchHeapLimit, maxOldSpaceMbIn } from '../../bench/heap-limit';

const REPO = resolve(__dirname, '../..');

describe('bench heap limit (the one the production overlay deploys)', () => {
  it('reads --max-old-space-size from a manifest, or none', () => {
    expect(maxOldSpaceMbIn('value: --max-old-space-size=576')).to.equal(576);
    expect(maxOldSpaceMbIn('value: --enable-source-maps --max-old-space-size=384 --foo')).to.equal(384);
    expect(maxOldSpaceMbIn('value: --enable-source-maps')).to.equal(null);
  });

  it("finds the production overlay's limit, so the bench runs the servers as deployed", () => {
    const limit = benchHeapLimit(REPO, {});
    expect(limit.args).to.have.length(1);
    expect(limit.args[0]).to.match(/^--max-old-space-size=\d+$/);
    expect(limit.description).to.include('deploy/overlays/production');
  });

  it("takes BENCH_MAX_OLD_SPACE_MB over it, and 0 for V8's default", () => {
    expect(benchHeapLimit(REPO, { BENCH_MAX_OLD_SPACE_MB: '1024' }).args).to.deep.equal(['--max-old-space-size=1024']);
    expect(benchHeapLimit(REPO, { BENCH_MAX_OLD_SPACE_MB: '0' })).to.deep.equal({ args: [], description: "heap limit: V8's default" });
  });
});
