/**
 * Secret comparisons are constant time: the master key check goes through crypto.timingSafeEqual
 * on fixed-length digests, so neither the position of the first wrong byte nor the key's length
 * shows in the response time.
 */
// The module object itself (not an import namespace, whose bindings are read-only): key-hash.ts
// reads timingSafeEqual from it at call time, so a spy installed here sees every comparison.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the spy needs the mutable module object
import crypto = require('node:crypto');
import { expect } from 'chai';
import { hashKey, PresentedKey, SecretDigest } from '../../src/auth/key-hash';
import { Authorizer } from '../../src/authorize/authorize';
import type { RequestFacts } from '../../src/domain/request';
import { aPolicy, aRequest } from '../checks/fixtures';
import { MemoryStore } from '../support/memory-store';

const MASTER = 'sk-master-constant-time-0001';

/** Records every timingSafeEqual call while `work` runs (the module reads it at call time). */
async function timingSafeCalls(work: () => unknown): Promise<Array<[number, number]>> {
  const module: { timingSafeEqual: typeof crypto.timingSafeEqual } = crypto;
  const original = module.timingSafeEqual;
  const calls: Array<[number, number]> = [];
  module.timingSafeEqual = (a, b) => {
    calls.push([a.byteLength, b.byteLength]);
    return original(a, b);
  };
  try {
    await work();
  } finally {
    module.timingSafeEqual = original;
  }
  return calls;
}

function withCredential(value: string): RequestFacts {
  return aRequest({ credential: { kind: 'present', value, header: 'authorization' } });
}

describe('constant-time secret comparison', () => {
  it('compares through crypto.timingSafeEqual on 32-byte digests, whatever the lengths', async () => {
    const calls = await timingSafeCalls(() => {
      const master = new SecretDigest(MASTER);
      expect(new PresentedKey('short').equals(master)).to.equal(false);
      expect(new PresentedKey(`${MASTER}-and-much-longer`).equals(master)).to.equal(false);
      expect(new PresentedKey(MASTER).equals(master)).to.equal(true);
    });
    expect(calls).to.deep.equal([
      [32, 32],
      [32, 32],
      [32, 32],
    ]);
  });

  it('is what identifies the master key on the request path, for a match and for a near miss', async () => {
    const authorizer = new Authorizer({ store: new MemoryStore(), policy: aPolicy(), masterKey: MASTER });
    const matched = await timingSafeCalls(async () => {
      const { decision } = await authorizer.authorize(withCredential(MASTER));
      expect(decision.identity.userRole).to.equal('proxy_admin');
    });
    expect(matched.length).to.be.at.least(1);
    const nearMiss = await timingSafeCalls(async () => {
      const { decision } = await authorizer.authorize(withCredential(`${MASTER.slice(0, -1)}2`));
      expect(decision.kind).to.equal('deny');
    });
    expect(nearMiss.length).to.be.at.least(1);
  });

  it('hashes keys as LiteLLM does (sha256 hex of the whole key), so only hashes are compared in the database', () => {
    expect(hashKey('sk-1234')).to.equal(crypto.createHash('sha256').update('sk-1234').digest('hex'));
    expect(new PresentedKey('sk-1234').hash).to.equal(hashKey('sk-1234'));
  });
});
