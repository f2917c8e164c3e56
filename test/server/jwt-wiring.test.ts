import { expect } from 'chai';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { settingsFrom } from '../../src/config/settings';
import { createLogger } from '../../src/observability/logger';
import { DeferredJwtDirectory, wireJwt } from '../../src/server/jwt-wiring';
import { StoreUnavailableError } from '../../src/store/unavailable';
import type { JwtDirectory } from '../../src/store/jwt-directory';
import { MemoryStore } from '../support/memory-store';

describe('JWT wiring for tollgate serve', () => {
  it('has no authenticator when enable_jwt_auth is off', () => {
    expect(wireJwt(settingsFrom({}, {}), new MemoryStore(), createLogger('silent')).authenticator).to.equal(null);
  });

  it('builds one when it is on', () => {
    const env = { JWT_PUBLIC_KEY_URL: 'http://127.0.0.1:9/certs' };
    const settings = settingsFrom(parseLiteLlmConfig('general_settings:\n  enable_jwt_auth: true\n', env), env);
    expect(wireJwt(settings, new MemoryStore(), createLogger('silent')).authenticator).to.not.equal(null);
  });

  it('the directory cannot decide until the database has connected, then delegates', async () => {
    const directory = new DeferredJwtDirectory();
    expect(await Promise.resolve(directory.teamIdsWithAlias('x')).catch((e: unknown) => e)).to.be.instanceOf(StoreUnavailableError);
    expect(await directory.upsertUser({ userId: 'u', email: null, role: null, maxBudget: null, models: [] }).catch((e: unknown) => e)).to.be.instanceOf(
      StoreUnavailableError,
    );
    directory.connect({ teamIdsWithAlias: (alias: string) => Promise.resolve([`id-of-${alias}`]) } as unknown as JwtDirectory);
    expect(await directory.teamIdsWithAlias('x')).to.deep.equal(['id-of-x']);
  });
});
