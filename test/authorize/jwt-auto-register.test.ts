/**
 * auto_register through the Authorizer: the request that registers a client is decided as the key
 * it registered, exactly as the same request is once the mapping exists, the end user it names
 * (body or header) included: its budget, its per-model budget, its identity.
 */
import { expect } from 'chai';
import { JwtAuthenticator } from '../../src/auth/jwt/authenticator';
import { Authorizer, type Outcome } from '../../src/authorize/authorize';
import type { RequestFacts } from '../../src/domain/request';
import type { JsonObject } from '../../src/domain/entities';
import { aBudget, anEndUser, aPolicy, aRequest, aTeam, aUser, NOW } from '../checks/fixtures';
import { aVerifier, jwtSettings, MemoryDirectory } from '../auth/jwt/fixtures';
import { aSigningKey, aToken, type SigningKey } from '../support/jwt';
import { MemoryStore } from '../support/memory-store';

/** A MemoryStore whose LiteLLM_JWTKeyMapping rows are those the directory registered. */
class RegisteringStore extends MemoryStore {
  directory: MemoryDirectory | null = null;
  findJwtKeyMapping(claimName: string, claimValue: string): Promise<string | null> {
    return Promise.resolve(this.directory?.clientKeys.get(`${claimName}=${claimValue}`) ?? null);
  }
}

const daily = (limit: number): JsonObject => ({ max_budget: limit, budget_duration: '1d' });

describe('Authorizer: the request auto_register registers a client with is decided as its later requests are', () => {
  let signing: SigningKey;
  let store: RegisteringStore;
  let directory: MemoryDirectory;

  before(async () => {
    signing = await aSigningKey('ES256', 'auto-register');
  });

  beforeEach(() => {
    store = new RegisteringStore();
    directory = new MemoryDirectory(store);
    store.directory = directory;
    store.teams.set('t1', aTeam({ team_id: 't1', models: [] }));
    store.users.set('alice', aUser({ user_id: 'alice', user_role: 'internal_user' }));
    store.endUsers.set('spent', anEndUser({ user_id: 'spent', spend: 20, budget: aBudget({ max_budget: 10 }) }));
    store.endUsers.set('no-gpt-4o', anEndUser({ user_id: 'no-gpt-4o', budget: aBudget({ model_max_budget: { 'gpt-4o': daily(0) } }) }));
    store.endUsers.set('fine', anEndUser({ user_id: 'fine' }));
  });

  function authorizer(): Authorizer {
    const settings = jwtSettings({
      jwtauth: {
        team_id_jwt_field: 'tid',
        user_id_jwt_field: 'sub',
        end_user_id_jwt_field: 'customer',
        virtual_key_claim_field: 'email',
        unregistered_jwt_client_behavior: 'auto_register',
      },
      tollgate: { public_keys: [signing.jwk], envoy_metadata_namespace: 'jwt' },
      env: { publicKeyUrl: null },
    });
    const policy = aPolicy();
    const jwt = new JwtAuthenticator({ settings, policy, store, directory, verifier: aVerifier(settings) });
    return new Authorizer({ store, policy, masterKey: 'sk-master-0000', jwt, now: () => NOW });
  }

  async function aCall(claims: Record<string, unknown>, endUserId: string | null): Promise<RequestFacts> {
    const body: JsonObject = endUserId === null ? { model: 'gpt-4o', messages: [] } : { model: 'gpt-4o', messages: [], user: endUserId };
    return aRequest({ credential: { kind: 'present', value: await aToken(signing, claims), header: 'authorization' }, body, endUserId });
  }

  /** The registering call's outcome, then the same call's once the client is mapped; one registration. */
  async function firstAndSecond(claims: Record<string, unknown>, endUserId: string | null): Promise<[Outcome, Outcome]> {
    const decider = authorizer();
    const first = await decider.authorize(await aCall(claims, endUserId));
    const name = `email=${String(claims.email)}`;
    expect(directory.clientKeys.has(name), 'the first call registered the client').to.equal(true);
    const second = await decider.authorize(await aCall(claims, endUserId));
    expect(directory.calls.filter((call) => call.startsWith(`registerClientKey:${name}:`)), 'the second call was mapped').to.have.length(1);
    return [first, second];
  }

  const client = { email: 'dev@example.com', sub: 'alice', tid: 't1' };

  it("refuses the registering call of an end user over budget as the mapped one (400, the end user's budget)", async () => {
    const [first, second] = await firstAndSecond(client, 'spent');
    expect(first.decision.kind).to.equal('deny');
    expect(first.decision.kind === 'deny' ? first.decision.denial.message : '').to.include('End User=spent over budget');
    expect(first.decision.identity).to.include({ endUserId: 'spent' });
    expect(first).to.deep.equal(second);
  });

  it("refuses the registering call of an end user over its per-model budget as the mapped one (400, LiteLLM's Check 5b)", async () => {
    const [first, second] = await firstAndSecond(client, 'no-gpt-4o');
    expect(first.refusedBy).to.equal('end_user_model_budget');
    expect(first.decision.kind === 'deny' ? first.decision.denial.message : '').to.equal('LiteLLM End User: no-gpt-4o, exceeded budget for model=gpt-4o');
    expect(first).to.deep.equal(second);
  });

  it('allows the registering call of an end user within its budgets as the mapped one, naming it upstream', async () => {
    const [first, second] = await firstAndSecond(client, 'fine');
    expect(first.decision.kind).to.equal('allow');
    expect(first.decision.identity).to.include({ endUserId: 'fine', userId: 'alice', teamId: 't1' });
    expect(first).to.deep.equal(second);
  });

  it("decides the registering call by the request's end user, not the token's end-user claim, as the mapped one (LiteLLM's first call alone takes the claim)", async () => {
    const claimed = { ...client, customer: 'no-gpt-4o' };
    const [first, second] = await firstAndSecond(claimed, 'spent');
    expect(first.decision.kind === 'deny' ? first.decision.denial.message : '').to.include('End User=spent over budget');
    expect(first).to.deep.equal(second);
    const [alone, again] = await firstAndSecond({ ...claimed, email: 'other@example.com' }, null);
    expect(alone.decision.kind, "the claim's per-model budget is not judged on a mapped call").to.equal('allow');
    expect(alone).to.deep.equal(again);
  });
});
