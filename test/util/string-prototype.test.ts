import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const REPO = resolve(__dirname, '../..');

/**
 * V8's own view of String.prototype (`%HasFastProperties`, only with --allow-natives-syntax) in a
 * fresh process, after `script` ran: the flag and the state it reads are process-wide.
 */
function stringPrototypeIsFast(script: string): boolean {
  const program = `${script}\nprocess.stdout.write(String(%HasFastProperties(String.prototype)));`;
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', '-r', 'tsx/cjs', '-e', program], { cwd: REPO, encoding: 'utf8' });
  return out.trim() === 'true';
}

describe('restoreFastStringMethods (string methods stay on V8 fast paths)', () => {
  const restore = `require('./src/util/string-prototype.ts').restoreFastStringMethods();`;

  it('brings String.prototype back to fast properties after a class extends String', () => {
    const subclass = 'class Verbatim extends String {}';
    expect(stringPrototypeIsFast(subclass)).to.equal(false);
    expect(stringPrototypeIsFast(`${subclass}\n${restore}`)).to.equal(true);
  });

  it('is applied where Tollgate loads node-redis, so `tollgate serve` runs with fast string methods', () => {
    // node-redis on its own; should this ever hold, the workaround can go.
    expect(stringPrototypeIsFast(`require('redis');`)).to.equal(false);
    expect(stringPrototypeIsFast(`require('./src/cache/redis-shared-cache.ts');`)).to.equal(true);
    expect(stringPrototypeIsFast(`require('./src/server/serve.ts');`)).to.equal(true);
  });
});
