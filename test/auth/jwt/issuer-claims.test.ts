import { expect } from 'chai';
import { CompactSign } from 'jose';
import { JwtAuthenticator, type JwtOutcome } from '../../../src/auth/jwt/authenticator';
import { claimIdentityOf, issuerOf, type ClaimIdentity } from '../../../src/auth/jwt/claim-identity';
import type { Claims } from '../../../src/auth/jwt/claims';
import type { JwtSettings } from '../../../src/auth/jwt/settings';
import { aPolicy, aRequest, aTeam, aUser, NOW } from '../../checks/fixtures';
import { MemoryStore } from '../../support/memory-store';
import { aSigningKey, aToken, startJwksServer, type JwksServer, type SigningKey } from '../../support/jwt';
import { aVerifier, jwtSettings, MemoryDirectory, type JwtConfigParts } from './fixtures';

const KEYCLOAK = 'https://keycloak.example.com/realms/my-realm';
const WORKLOADS = 'https://workloads.example.com';

/** LiteLLM's own example: the first provider's `sub` is a user, the second's a team. */
function twoIssuers(top: Record<string, unknown> = {}, jwks: { keycloak?: string; workloads?: string } = {}): JwtConfigParts {
  return {
    jwtauth: {
      ...top,
      issuers: [
        {
          issuer: KEYCLOAK,
          audience: 'litellm-proxy',
          ...(jwks.keycloak !== undefined ? { jwks_url: jwks.keycloak } : {}),
          user_id_jwt_field: 'sub',
          user_email_jwt_field: 'email',
          team_ids_jwt_field: 'groups',
        },
        {
          issuer: WORKLOADS,
          jwks_url: jwks.workloads ?? 'https://workloads.example.com/.well-known/jwks.json',
          audience: 'litellm-proxy',
          team_id_jwt_field: 'sub',
        },
      ],
    },
  };
}

function identityOf(claims: Claims, settings: JwtSettings): ClaimIdentity {
  const identity = claimIdentityOf(claims, settings);
  if ('status' in identity) throw new Error(identity.message);
  return identity;
}

describe("litellm_jwtauth.issuers: an issuer's own claim fields (newer LiteLLM's per-issuer configuration)", () => {
  describe('claims → identity', () => {
    const settings = jwtSettings(twoIssuers());

    it("reads each token with its issuer's fields: the same sub is a user from one provider and a team from the other", () => {
      const user = identityOf({ iss: KEYCLOAK, sub: 'alice', email: 'alice@acme.example', groups: ['eng', 'ops'] }, settings);
      expect(user).to.include({ userId: 'alice', userEmail: 'alice@acme.example', specificTeamId: null, rbacRole: 'internal_user' });
      expect(user.groupTeamIds).to.deep.equal(['eng', 'ops']);

      const team = identityOf({ iss: WORKLOADS, sub: 'batch-jobs', email: 'ci@acme.example', groups: ['eng'] }, settings);
      expect(team).to.include({ userId: null, userEmail: null, specificTeamId: 'batch-jobs', specificTeamIdIsDefault: false, rbacRole: 'team' });
      expect(team.groupTeamIds, "the first issuer's groups field is not the second's").to.deep.equal([]);
    });

    it('a token whose iss matches no entry is read with the top-level fields alone, as is one without iss', () => {
      const top = jwtSettings(twoIssuers({ user_id_jwt_field: 'uid', team_id_jwt_field: 'tid' }));
      for (const iss of ['https://elsewhere.example', `${WORKLOADS}/`, undefined]) {
        const identity = identityOf({ ...(iss !== undefined ? { iss } : {}), sub: 'batch-jobs', uid: 'bob', tid: 'blue' }, top);
        expect(identity, String(iss)).to.include({ userId: 'bob', specificTeamId: 'blue' });
      }
      expect(issuerOf({ iss: `${WORKLOADS}/` }, top)).to.equal(null);
      expect(issuerOf({ iss: WORKLOADS }, top)?.issuer).to.equal(WORKLOADS);
    });

    it("a field the entry leaves unset is the top-level one; the entry's own wins where the token holds it", () => {
      const merged = jwtSettings(twoIssuers({ user_id_jwt_field: 'preferred_username', org_id_jwt_field: 'org', end_user_id_jwt_field: 'customer' }));
      const claims = { iss: WORKLOADS, sub: 'batch-jobs', preferred_username: 'svc-batch', org: 'acme', customer: 'c-1' };
      expect(identityOf(claims, merged)).to.include({ specificTeamId: 'batch-jobs', userId: 'svc-batch', orgId: 'acme', endUserId: 'c-1' });
      expect(identityOf({ ...claims, iss: KEYCLOAK, sub: 'alice' }, merged), "keycloak's user_id_jwt_field is sub").to.include({ userId: 'alice' });
    });

    it("an entry's field whose claim is absent, null or empty falls back to the top-level field (LiteLLM's getters read the global path then)", () => {
      const merged = jwtSettings(twoIssuers({ team_id_jwt_field: 'tid', team_id_default: 'default-team' }));
      expect(identityOf({ iss: WORKLOADS, tid: 'blue' }, merged)).to.include({ specificTeamId: 'blue', specificTeamIdIsDefault: false });
      expect(identityOf({ iss: WORKLOADS, sub: null, tid: 'blue' }, merged)).to.include({ specificTeamId: 'blue' });
      expect(identityOf({ iss: WORKLOADS, sub: '' }, merged)).to.include({ specificTeamId: 'default-team', specificTeamIdIsDefault: true });
      // Present, the entry's claim is the team: team_id_default is no longer read (a list gives its first element).
      expect(identityOf({ iss: WORKLOADS, sub: ['green', 'red'] }, merged)).to.include({ specificTeamId: 'green', specificTeamIdIsDefault: false });
    });

    it("an entry's team_ids_jwt_field takes a single string as one team, and any other value as none, without the top-level field", () => {
      const merged = jwtSettings(twoIssuers({ team_ids_jwt_field: 'roles' }));
      expect(identityOf({ iss: KEYCLOAK, groups: 'eng', roles: ['x'] }, merged).groupTeamIds).to.deep.equal(['eng']);
      expect(identityOf({ iss: KEYCLOAK, groups: 7, roles: ['x'] }, merged).groupTeamIds).to.deep.equal([]);
      expect(identityOf({ iss: KEYCLOAK, roles: ['x'] }, merged).groupTeamIds, 'absent: the top-level field').to.deep.equal(['x']);
      // The top-level field keeps its own rule: a string names no team.
      expect(identityOf({ iss: WORKLOADS, roles: 'x' }, merged).groupTeamIds).to.deep.equal([]);
    });

    it('an id claim holding an integer beyond 2^53 refuses the token (401): JSON.parse rounds it to a neighbour, another id', () => {
      const settings = jwtSettings(twoIssuers({ user_id_jwt_field: 'uid', org_id_jwt_field: 'org' }));
      // 9007199254740993 in the token arrives as 9007199254740992, which LiteLLM's Python would read as another team.
      const parsed = JSON.parse(`{"iss": "${WORKLOADS}", "sub": 9007199254740993}`) as Claims;
      for (const claims of [parsed, { iss: WORKLOADS, sub: [2 ** 60] }, { iss: WORKLOADS, sub: 'batch-jobs', org: 2 ** 53 }, { iss: 'https://elsewhere.example', uid: -(2 ** 55) }]) {
        const refusal = claimIdentityOf(claims, settings);
        if (!('status' in refusal)) throw new Error(`expected a refusal of ${JSON.stringify(claims)}, read as ${JSON.stringify(refusal)}`);
        expect(refusal.status).to.equal(401);
        expect(refusal.message).to.match(/^Authentication Error, JWT claim '(sub|org|uid)' holds an integer too large to read exactly$/);
      }
      // Exact integers stay ids; an unsafe one where no id is read from it (a user id next to an e-mail) is let be.
      expect(identityOf({ iss: WORKLOADS, sub: 2 ** 53 - 1 }, settings).specificTeamId).to.equal('9007199254740991');
      expect(identityOf({ uid: 2 ** 60, email: 'a@acme.example' }, jwtSettings(twoIssuers({ user_id_jwt_field: 'uid', user_email_jwt_field: 'email' }))).userId).to.equal('a@acme.example');
    });

    it("an entry's user id is taken as it is, where the top-level field defers to the e-mail for a non-string id", () => {
      const top = jwtSettings({ jwtauth: { user_id_jwt_field: 'sub', user_email_jwt_field: 'email' } });
      expect(identityOf({ sub: 42, email: 'a@acme.example' }, top).userId).to.equal('a@acme.example');
      expect(identityOf({ iss: KEYCLOAK, sub: 42, email: 'a@acme.example' }, jwtSettings(twoIssuers())).userId).to.equal('42');
    });
  });

  describe('through the authenticator, each token decided as its issuer maps it', function () {
    this.timeout(20_000);
    let keycloakKey: SigningKey;
    let workloadsKey: SigningKey;
    let keycloak: JwksServer;
    let workloads: JwksServer;

    before(async () => {
      keycloakKey = await aSigningKey('RS256', 'kc');
      workloadsKey = await aSigningKey('ES256', 'wl');
      keycloak = await startJwksServer(keycloakKey);
      workloads = await startJwksServer(workloadsKey);
    });

    after(async () => {
      await keycloak.close();
      await workloads.close();
    });

    function authenticatorFor(parts: JwtConfigParts): { store: MemoryStore; directory: MemoryDirectory; run: (token: string) => Promise<JwtOutcome> } {
      const store = new MemoryStore();
      const directory = new MemoryDirectory(store);
      const settings = jwtSettings(parts);
      const authenticator = new JwtAuthenticator({ settings, policy: aPolicy(), store, directory, verifier: aVerifier(settings) });
      const request = aRequest({ credential: { kind: 'none' }, route: '/chat/completions', path: '/chat/completions', model: 'gpt-4o', body: { model: 'gpt-4o', messages: [] } });
      return { store, directory, run: async (token) => authenticator.authenticate(request, { kind: 'bearer', token }, NOW) };
    }

    const tokenOf = (key: SigningKey, iss: string, claims: Record<string, unknown>) => aToken(key, { iss, aud: 'litellm-proxy', ...claims });

    it("a keycloak token is its user (upserted) acting for its first group team; a workload token is its team, with no user", async () => {
      const h = authenticatorFor(twoIssuers({ user_id_upsert: true }, { keycloak: keycloak.url, workloads: workloads.url }));
      h.store.teams.set('eng', aTeam({ team_id: 'eng', models: ['gpt-4o'] }));
      h.store.teams.set('batch-jobs', aTeam({ team_id: 'batch-jobs' }));

      const user = await h.run(await tokenOf(keycloakKey, KEYCLOAK, { sub: 'alice', email: 'alice@acme.example', groups: ['eng'] }));
      if (user.kind !== 'resolved') throw new Error(`expected resolved, got ${user.kind}`);
      expect(user.identity).to.include({ userId: 'alice', teamId: 'eng' });
      expect(h.directory.calls).to.include('upsertUser:alice');

      const team = await h.run(await tokenOf(workloadsKey, WORKLOADS, { sub: 'batch-jobs', email: 'ci@acme.example', groups: ['eng'] }));
      if (team.kind !== 'resolved') throw new Error(`expected resolved, got ${team.kind}`);
      expect(team.identity).to.include({ teamId: 'batch-jobs', userId: undefined });
      expect(team.snapshot.user).to.equal(null);
      expect(h.directory.calls.filter((call) => call.startsWith('upsertUser'))).to.deep.equal(['upsertUser:alice']);
    });

    it("a workload token naming a team that does not exist is LiteLLM's 404, however the keycloak entry reads sub", async () => {
      const h = authenticatorFor(twoIssuers({}, { keycloak: keycloak.url, workloads: workloads.url }));
      h.store.users.set('ghost', aUser({ user_id: 'ghost' }));
      const outcome = await h.run(await tokenOf(workloadsKey, WORKLOADS, { sub: 'ghost' }));
      if (outcome.kind !== 'refused') throw new Error(`expected a refusal, got ${outcome.kind}`);
      expect(outcome.check).to.equal('jwt_team');
      expect(outcome.denial).to.include({ status: 404 });
      expect(outcome.denial.message).to.include('Team=ghost');
    });

    it("a top-level team_id_jwt_field is still required of a token of an entry that names no team by it (LiteLLM's is_required_team_id reads the top-level settings)", async () => {
      const h = authenticatorFor(twoIssuers({ team_id_jwt_field: 'tid' }, { keycloak: keycloak.url, workloads: workloads.url }));
      h.store.teams.set('eng', aTeam({ team_id: 'eng', models: ['gpt-4o'] }));
      h.store.teams.set('batch-jobs', aTeam({ team_id: 'batch-jobs' }));
      h.store.users.set('alice', aUser({ user_id: 'alice' }));
      const user = await h.run(await tokenOf(keycloakKey, KEYCLOAK, { sub: 'alice', groups: ['eng'] }));
      if (user.kind !== 'refused') throw new Error(`expected a refusal, got ${user.kind}`);
      expect(user.denial).to.include({ status: 401, message: "Authentication Error, No team id found in token. Checked team_id field 'tid'" });
      // The workload entry's own team claim is the team: the top-level field is not read for it.
      expect((await h.run(await tokenOf(workloadsKey, WORKLOADS, { sub: 'batch-jobs' }))).kind).to.equal('resolved');
    });

    it('a workload token whose sub is an integer beyond 2^53 is refused, not decided as the team its rounded value names', async () => {
      const h = authenticatorFor(twoIssuers({}, { keycloak: keycloak.url, workloads: workloads.url }));
      h.store.teams.set('9007199254740992', aTeam({ team_id: '9007199254740992', models: ['gpt-4o'] }));
      const payload = `{"iss":"${WORKLOADS}","aud":"litellm-proxy","sub":9007199254740993,"exp":${Math.floor(Date.now() / 1000) + 3600}}`;
      const token = await new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: workloadsKey.alg, kid: workloadsKey.kid }).sign(workloadsKey.privateKey);
      const outcome = await h.run(token);
      if (outcome.kind !== 'refused') throw new Error(`expected a refusal, got ${outcome.kind} ${JSON.stringify(outcome.identity)}`);
      expect(outcome.check).to.equal('jwt_claims');
      expect(outcome.denial).to.include({ status: 401 });
    });

    it("a token from an issuer no entry names is verified with JWT_PUBLIC_KEY_URL's keys and read with the top-level fields", async () => {
      const other = await aSigningKey('RS256', 'other');
      const defaults = await startJwksServer(other);
      try {
        const h = authenticatorFor({
          ...twoIssuers({ user_id_jwt_field: 'uid' }, { keycloak: keycloak.url, workloads: workloads.url }),
          env: { publicKeyUrl: defaults.url },
        });
        h.store.users.set('carol', aUser({ user_id: 'carol' }));
        const outcome = await h.run(await aToken(other, { iss: 'https://elsewhere.example', sub: 'batch-jobs', uid: 'carol' }));
        if (outcome.kind !== 'resolved') throw new Error(`expected resolved, got ${outcome.kind}`);
        expect(outcome.identity).to.include({ userId: 'carol', teamId: undefined });
        // Signed by an entry's key but not naming its issuer: that entry's keys are not trusted for it.
        const forged = await h.run(await aToken(workloadsKey, { iss: 'https://elsewhere.example', sub: 'batch-jobs' }));
        expect(forged.kind).to.equal('refused');
      } finally {
        await defaults.close();
      }
    });
  });
});
