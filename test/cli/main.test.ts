/**
 * `tollgate`'s exit codes for bad usage, decided before any store is opened: 2, whether commander or
 * a management command's own option parser refuses the command line.
 */
import { expect } from 'chai';
import { main } from '../../src/cli/main';

describe('tollgate exit codes for bad usage', () => {
  const original = console.error;
  let printed: string[] = [];

  beforeEach(() => {
    printed = [];
    console.error = (...args: unknown[]) => {
      printed.push(args.map(String).join(' '));
    };
  });

  afterEach(() => {
    console.error = original;
  });

  const tollgate = (...args: string[]): Promise<number> => main(['node', 'tollgate', ...args]);

  it('exits 2, naming the value, when an option value is not what the option takes, as when the store refuses one', async () => {
    expect(await tollgate('team', 'create', '--max-budget', 'lots')).to.equal(2);
    expect(printed).to.deep.equal(["tollgate: not a number: 'lots'"]);
    expect(await tollgate('team', 'update', 't', '--metadata', '[1]')).to.equal(2);
    expect(await tollgate('key', 'create', '--budget-limits', '{')).to.equal(2);
  });

  it('exits 2 for team add-member --budget none, pointing at team update-member, which unlinks a budget now', async () => {
    expect(await tollgate('team', 'add-member', '--team', 't', '--user', 'u', '--budget', 'none')).to.equal(2);
    expect(printed).to.deep.equal(["tollgate: --budget none: to unlink a member's budget: team update-member --budget none"]);
  });
});
