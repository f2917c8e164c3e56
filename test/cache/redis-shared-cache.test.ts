/**
 * A hung Redis (connection open, no replies) must not cost every cold Check the Redis timeout:
 * after a failure the shared tier is skipped for a moment (redis-shared-cache.ts).
 */
import { expect } from 'chai';
import { RedisSharedCache, type RedisClient } from '../../src/cache/redis-shared-cache';
import { SharedTierSkipped } from '../../src/cache/shared-cache';

/** A connected client whose commands never answer, counting what it was sent. */
function hungClient(): { client: RedisClient; sent: string[] } {
  const sent: string[] = [];
  const never = (command: string) => () => {
    sent.push(command);
    return new Promise<never>(() => undefined);
  };
  const client = { isReady: true, get: never('GET'), set: never('SET'), evalSha: never('EVALSHA') } as unknown as RedisClient;
  return { client, sent };
}

describe('Redis shared cache on a hung Redis', () => {
  it('times a read out, then skips Redis for a second: reads are refused at once as skipped, writes are dropped', async () => {
    const { client, sent } = hungClient();
    let now = 1_000_000;
    const cache = new RedisSharedCache(client, 20, () => now);
    let error: unknown = null;
    await cache.get('k').catch((e: unknown) => (error = e));
    expect(String(error)).to.match(/timed out/);
    expect(await cache.get('k').catch((e: unknown) => e)).to.be.instanceOf(SharedTierSkipped);
    expect(cache.reachable()).to.equal(false);
    expect(await cache.setIfUnchanged('k', null, 'v', 1000)).to.equal(false);
    expect(sent).to.deep.equal(['GET']);
    now += 1000;
    await cache.get('k').catch(() => undefined);
    expect(sent).to.deep.equal(['GET', 'GET']);
  });

  it('reads nothing while the client is not connected: the read is refused as skipped, not answered as absent', async () => {
    const { client, sent } = hungClient();
    const cache = new RedisSharedCache({ ...client, isReady: false } as unknown as RedisClient, 20);
    expect(await cache.get('k').catch((e: unknown) => e)).to.be.instanceOf(SharedTierSkipped);
    expect(sent).to.deep.equal([]);
  });
});
