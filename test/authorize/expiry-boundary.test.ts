/**
 * Key expiry is exact at the boundary, through the whole authorizer with an injected clock:
 * expired one millisecond ago is denied, expiring one millisecond from now is allowed
 * (LiteLLM: `expires < now` is expired, so expiring exactly now still passes).
 */
import { expect } from 'chai';
import { hashKey } from '../../src/auth/key-hash';
import { Authorizer } from '../../src/authorize/authorize';
import type { Decision } from '../../src/domain/decision';
import { aKey, aPolicy, aRequest, NOW } from '../checks/fixtures';
import { MemoryStore } from '../support/memory-store';

const RAW = 'sk-expiry-boundary-0001';

async function decisionFor(expires: Date): Promise<Decision> {
  const store = new MemoryStore();
  store.keys.set(hashKey(RAW), aKey({ token: hashKey(RAW), expires, team_id: null }));
  const authorizer = new Authorizer({ store, policy: aPolicy(), masterKey: 'sk-master-boundary', now: () => new Date(NOW) });
  const { decision } = await authorizer.authorize(aRequest({ credential: { kind: 'present', value: RAW, header: 'authorization' } }));
  return decision;
}

describe('key expiry at the boundary (injected clock)', () => {
  it('denies a key that expired 1 ms ago (401 expired_key)', async () => {
    const decision = await decisionFor(new Date(NOW.getTime() - 1));
    if (decision.kind !== 'deny') throw new Error('expected a denial');
    expect(decision.denial).to.include({ status: 401, type: 'expired_key' });
  });

  it('allows a key that expires 1 ms from now', async () => {
    expect((await decisionFor(new Date(NOW.getTime() + 1))).kind).to.equal('allow');
  });

  it('allows a key expiring exactly now', async () => {
    expect((await decisionFor(new Date(NOW.getTime()))).kind).to.equal('allow');
  });
});
