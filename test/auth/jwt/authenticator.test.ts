import { expect } from 'chai';
import { JwtAuthenticator, type JwtOutcome } from '../../../src/auth/jwt/authenticator';
import type { Claims } from '../../../src/auth/jwt/claims';
import type { Policy } from '../../../src/config/policy';
import type { RequestFacts } from '../../../src/domain/request';
import { aBudget, aMembership, anAccessGroup, anEndUser, anOrg, aPolicy, aRequest, aTag, aTeam, aUser, NOW } from '../../checks/fixtures';
import { MemoryStore } from '../../support/memory-store';
import { aVerifier, jwtSettings, MemoryDirectory, type JwtConfigParts } from './fixtures';

interface Harness {
  readonly store: MemoryStore;
  readonly directory: MemoryDirectory;
  /** What registrationFailed was told: the claim name and the cause's message. */
  readonly registrationFailures: string[];
  run(claims: Claims, request?: Partial<RequestFacts>): Promise<JwtOutcome>;
}

function harness(parts: JwtConfigParts = {}, policy: Partial<Policy> = {}): Harness {
  const store = new MemoryStore();
  const directory = new MemoryDirectory(store);
  const settings = jwtSettings(parts);
  const registrationFailures: string[] = [];
  const authenticator = new JwtAuthenticator({
    settings,
    policy: aPolicy(policy),
    store,
    directory,
    verifier: aVerifier(settings),
    registrationFailed: (claimName, cause) => registrationFailures.push(`${claimName}: ${cause instanceof Error ? cause.message : String(cause)}`),
  });
  return {
    store,
    directory,
    registrationFailures,
    run: async (claims, request = {}) => authenticator.authenticate(aRequest({ credential: { kind: 'none' }, ...request }), { kind: 'envoy', claims }, NOW),
  };
}

function refusal(outcome: JwtOutcome): { check: string; status: number; type: string; message: string } {
  if (outcome.kind !== 'refused') throw new Error(`expected a refusal, got ${outcome.kind}`);
  return { check: outcome.check, status: outcome.denial.status, type: outcome.denial.type, message: outcome.denial.message };
}

function resolved(outcome: JwtOutcome) {
  if (outcome.kind !== 'resolved') throw new Error(`expected resolved, got ${outcome.kind}${outcome.kind === 'refused' ? `: ${outcome.denial.message}` : ''}`);
  return outcome;
}

const headerTeam = (teamId: string): Partial<RequestFacts> => ({ headers: { 'x-litellm-team-id': teamId } });
const modelRequest = (model: string | null, route = '/chat/completions'): Partial<RequestFacts> => ({
  route,
  path: route,
  model,
  body: model === null ? {} : { model, messages: [] },
});

describe('JwtAuthenticator (litellm-auth.md §3.3)', () => {
  describe('admin tokens', () => {
    it('an admin-scope token on an admin route is a proxy admin, with nothing loaded', async () => {
      const h = harness({ jwtauth: { user_id_jwt_field: 'sub' } });
      const outcome = await h.run({ scope: 'openid litellm_proxy_admin', sub: 'root' }, modelRequest(null, '/key/generate'));
      expect(outcome).to.deep.equal({ kind: 'admin', identity: { userId: 'root', orgId: undefined, userRole: 'proxy_admin' } });
      expect(h.store.calls).to.deep.equal([]);
    });

    it('an admin-scope token outside admin_allowed_routes is refused (401)', async () => {
      const h = harness();
      expect(refusal(await h.run({ scope: 'litellm_proxy_admin' }, modelRequest('gpt-4o')))).to.deep.include({
        check: 'jwt_admin_routes',
        status: 401,
      });
    });

    it('a user row with role proxy_admin makes the caller an admin (seed era: no common checks)', async () => {
      const h = harness({ jwtauth: { user_id_jwt_field: 'sub' } });
      h.store.users.set('boss', aUser({ user_id: 'boss', user_role: 'proxy_admin' }));
      const outcome = await h.run({ sub: 'boss' }, modelRequest(null, '/key/generate'));
      expect(outcome.kind).to.equal('admin');
      expect(outcome.identity).to.include({ userId: 'boss', userRole: 'proxy_admin' });
    });
  });

  describe('team selection', () => {
    const groups = { jwtauth: { team_ids_jwt_field: 'groups', team_id_jwt_field: 'tid' } };

    it('x-litellm-team-id naming one of the token\'s teams selects it', async () => {
      const h = harness(groups);
      h.store.teams.set('t2', aTeam({ team_id: 't2' }));
      const outcome = resolved(await h.run({ groups: ['t1', 't2'] }, headerTeam('t2')));
      expect(outcome.snapshot.team?.team_id).to.equal('t2');
      expect(outcome.identity.teamId).to.equal('t2');
    });

    it('x-litellm-team-id also accepts the team id claim', async () => {
      const h = harness(groups);
      h.store.teams.set('t0', aTeam({ team_id: 't0' }));
      expect(resolved(await h.run({ tid: 't0', groups: ['t1'] }, headerTeam('t0'))).snapshot.team?.team_id).to.equal('t0');
    });

    it('x-litellm-team-id not among the token\'s teams → 403', async () => {
      const h = harness(groups);
      expect(refusal(await h.run({ tid: 't0', groups: ['t1'] }, headerTeam('t9')))).to.deep.equal({
        check: 'jwt_team',
        status: 403,
        type: 'auth_error',
        message: "Team 't9' from x-litellm-team-id header is not in your JWT's allowed teams. Allowed teams: ['t1', 't0']",
      });
    });

    it('the team id claim selects that team; a missing row is LiteLLM\'s 404', async () => {
      const h = harness({ jwtauth: { team_id_jwt_field: 'tid' } });
      expect(refusal(await h.run({ tid: 'ghost' }))).to.deep.equal({
        check: 'jwt_team',
        status: 404,
        type: 'auth_error',
        message: "{'error': \"Team doesn't exist in db. Team=ghost. Create team via `/team/new` call.\"}",
      });
    });

    it('team_id_upsert creates the missing team', async () => {
      const h = harness({ jwtauth: { team_id_jwt_field: 'tid', team_id_upsert: true } });
      expect(resolved(await h.run({ tid: 'fresh' })).snapshot.team?.team_id).to.equal('fresh');
      expect(h.directory.calls).to.include('upsertTeam:fresh');
    });

    it("team_id_upsert of an id the database takes for another team's is LiteLLM's 404, not an outage", async () => {
      const h = harness({ jwtauth: { team_id_jwt_field: 'tid', team_id_upsert: true } });
      h.directory.takenIds.add('research ');
      expect(refusal(await h.run({ tid: 'research ' }))).to.deep.include({ check: 'jwt_team', status: 404 });
      expect(h.directory.calls).to.include('upsertTeam:research ');
    });

    it('team_id_jwt_field set but absent from the token → 401 "No team id found in token"', async () => {
      const h = harness({ jwtauth: { team_id_jwt_field: 'tid' } });
      expect(refusal(await h.run({ sub: 'x' }))).to.deep.include({
        status: 401,
        message: "Authentication Error, No team id found in token. Checked team_id field 'tid'",
      });
    });

    it('team_id_default stands in for a missing team id claim', async () => {
      const h = harness({ jwtauth: { team_id_jwt_field: 'tid', team_id_default: 'shared' } });
      h.store.teams.set('shared', aTeam({ team_id: 'shared' }));
      expect(resolved(await h.run({})).snapshot.team?.team_id).to.equal('shared');
    });

    describe('team_alias_jwt_field', () => {
      it('resolves the alias to its team', async () => {
        const h = harness({ jwtauth: { team_alias_jwt_field: 'team_name' } });
        h.directory.teamAliases.set('Platform', ['t-platform']);
        h.store.teams.set('t-platform', aTeam({ team_id: 't-platform' }));
        expect(resolved(await h.run({ team_name: 'Platform' })).identity.teamId).to.equal('t-platform');
      });

      it('an unknown alias is 404, an ambiguous one 400, and no team claim at all 401', async () => {
        const h = harness({ jwtauth: { team_alias_jwt_field: 'team_name', team_id_jwt_field: 'tid' } });
        h.directory.teamAliases.set('Twice', ['a', 'b']);
        expect(refusal(await h.run({ team_name: 'Nobody' }))).to.deep.include({ status: 404 });
        expect(refusal(await h.run({ team_name: 'Twice' }))).to.deep.include({
          status: 400,
          message: "{'error': \"Multiple teams found with alias 'Twice'. Please use team_id_jwt_field instead or ensure team aliases are unique.\"}",
        });
        expect(refusal(await h.run({}))).to.deep.include({
          status: 401,
          message: "Authentication Error, No team found in token. Checked team_id field 'tid' and team_alias field 'team_name'.",
        });
      });

      it('the alias wins over team_id_default', async () => {
        const h = harness({ jwtauth: { team_alias_jwt_field: 'team_name', team_id_default: 'shared' } });
        h.directory.teamAliases.set('Platform', ['t-platform']);
        h.store.teams.set('t-platform', aTeam({ team_id: 't-platform' }));
        h.store.teams.set('shared', aTeam({ team_id: 'shared' }));
        expect(resolved(await h.run({ team_name: 'Platform' })).identity.teamId).to.equal('t-platform');
        expect(resolved(await h.run({})).identity.teamId).to.equal('shared');
      });
    });

    describe('group teams (team_ids_jwt_field)', () => {
      const jwtauth = { team_ids_jwt_field: 'groups' };

      it('picks the first team that may call the requested model, skipping unknown teams', async () => {
        const h = harness({ jwtauth });
        h.store.teams.set('mini', aTeam({ team_id: 'mini', models: ['gpt-4o-mini'] }));
        h.store.teams.set('full', aTeam({ team_id: 'full', models: ['gpt-4o'] }));
        const outcome = resolved(await h.run({ groups: ['ghost', 'mini', 'full'] }, modelRequest('gpt-4o')));
        expect(outcome.identity.teamId).to.equal('full');
      });

      it("counts a team's DB access groups as its models", async () => {
        const h = harness({ jwtauth });
        h.store.teams.set('ag-team', aTeam({ team_id: 'ag-team', models: ['nothing'], access_group_ids: ['ag1'] }));
        h.store.accessGroups.set('ag1', anAccessGroup({ access_group_id: 'ag1', access_model_names: ['gpt-4o'] }));
        expect(resolved(await h.run({ groups: ['ag-team'] }, modelRequest('gpt-4o'))).identity.teamId).to.equal('ag-team');
      });

      it('no team may call the model → 403 naming the teams checked', async () => {
        const h = harness({ jwtauth });
        h.store.teams.set('mini', aTeam({ team_id: 'mini', models: ['gpt-4o-mini'] }));
        expect(refusal(await h.run({ groups: ['mini'] }, modelRequest('gpt-4o')))).to.deep.equal({
          check: 'jwt_team',
          status: 403,
          type: 'auth_error',
          message: "No team has access to the requested model: gpt-4o. Checked teams={'mini'}. Check `/models` to see all available models.",
        });
      });

      it('a route outside team_allowed_routes disqualifies every team; without a model the caller has no team', async () => {
        const h = harness({ jwtauth: { ...jwtauth, team_allowed_routes: ['/v1/models'] } });
        h.store.teams.set('t1', aTeam({ team_id: 't1' }));
        expect(refusal(await h.run({ groups: ['t1'] }, modelRequest('gpt-4o'))).status).to.equal(403);
        expect(resolved(await h.run({ groups: ['t1'] }, modelRequest(null, '/user/info'))).snapshot.team).to.equal(null);
        expect(resolved(await h.run({ groups: ['t1'] }, modelRequest(null, '/v1/models'))).identity.teamId).to.equal('t1');
      });

      it('no teams at all: fine, unless enforce_team_based_model_access (403)', async () => {
        expect(resolved(await harness({ jwtauth }).run({}, modelRequest('gpt-4o'))).snapshot.team).to.equal(null);
        const strict = harness({ jwtauth: { ...jwtauth, enforce_team_based_model_access: true } });
        expect(refusal(await strict.run({}, modelRequest('gpt-4o')))).to.deep.include({
          status: 403,
          message: 'No teams found in token. `enforce_team_based_model_access` is set to True. Token must belong to a team.',
        });
      });
    });

    it('object_id_jwt_field on a TEAM token names (and loads) the team', async () => {
      const h = harness({ jwtauth: { object_id_jwt_field: 'oid', role_mappings: [], team_id_jwt_field: 'tid' } });
      h.store.teams.set('obj-team', aTeam({ team_id: 'obj-team', max_budget: 1, spend: 2 }));
      const outcome = resolved(await h.run({ oid: 'obj-team', tid: 'ignored' }));
      expect(outcome.snapshot.team?.team_id).to.equal('obj-team');
    });
  });

  describe('auto_register (unregistered_jwt_client_behavior, LiteLLM\'s _PendingAutoRegister then _auto_register_jwt_mapping)', () => {
    const jwtauth = {
      user_id_jwt_field: 'sub',
      team_id_jwt_field: 'tid',
      virtual_key_claim_field: 'email',
      unregistered_jwt_client_behavior: 'auto_register',
    };
    const withTeam = (h: Harness): void => {
      h.store.teams.set('t1', aTeam({ team_id: 't1', organization_id: 'o1' }));
      h.store.users.set('u1', aUser({ user_id: 'u1' }));
    };

    it("registers a key of the resolved user, team and organization for a new client's claim, and decides the token as that key", async () => {
      const h = harness({ jwtauth });
      withTeam(h);
      const outcome = await h.run({ sub: 'u1', tid: 't1', email: 'dev@example.com' }, modelRequest('gpt-4o'));
      const keyHash = h.directory.clientKeys.get('email=dev@example.com');
      expect(keyHash).to.be.a('string');
      expect(outcome).to.deep.equal({ kind: 'mapped_key', keyHash, identity: { keyHash } });
      expect(h.directory.calls).to.include('registerClientKey:email=dev@example.com:u1:t1:o1');
    });

    it('registers no key for a token of group teams whose request selected none (it would use that key without its teams\' limits), but the first request that selects one', async () => {
      const h = harness({ jwtauth: { ...jwtauth, team_id_jwt_field: undefined, team_ids_jwt_field: 'groups', team_allowed_routes: ['openai_routes'] } });
      h.store.users.set('u1', aUser({ user_id: 'u1' }));
      h.store.teams.set('mini', aTeam({ team_id: 'mini', models: ['gpt-4o-mini'] }));
      // A route no team may call: the token is decided without a team.
      const teamless = await h.run({ sub: 'u1', groups: ['mini'], email: 'dev@example.com' }, modelRequest(null, '/user/info'));
      expect(resolved(teamless).snapshot.team).to.equal(null);
      expect(h.directory.calls.filter((c) => c.startsWith('registerClientKey'))).to.deep.equal([]);
      expect((await h.run({ sub: 'u1', groups: ['mini'], email: 'dev@example.com' }, modelRequest('gpt-4o-mini'))).kind).to.equal('mapped_key');
      expect(h.directory.calls).to.include('registerClientKey:email=dev@example.com:u1:mini:null');
    });

    it('registers the key for the user row the policy resolved, found by e-mail under an id of its own', async () => {
      const h = harness({ jwtauth: { ...jwtauth, user_email_jwt_field: 'mail' } });
      withTeam(h);
      h.directory.usersByEmail.set('legacy@example.com', aUser({ user_id: 'legacy-id' }));
      h.store.users.set('legacy-id', aUser({ user_id: 'legacy-id' }));
      expect((await h.run({ sub: 'sso-123', mail: 'legacy@example.com', tid: 't1', email: 'dev@example.com' }, modelRequest('gpt-4o'))).kind).to.equal('mapped_key');
      expect(h.directory.calls).to.include('registerClientKey:email=dev@example.com:legacy-id:t1:o1');
    });

    it('registers nothing for a token the JWT policy refuses (its team unknown): LiteLLM creates the key only after auth_builder', async () => {
      const h = harness({ jwtauth });
      h.store.users.set('u1', aUser({ user_id: 'u1' }));
      expect(refusal(await h.run({ sub: 'u1', tid: 'ghost', email: 'dev@example.com' }, modelRequest('gpt-4o')))).to.deep.include({ check: 'jwt_team', status: 404 });
      expect(h.directory.calls.filter((c) => c.startsWith('registerClientKey'))).to.deep.equal([]);
    });

    it('registers nothing for a proxy admin, who needs no key', async () => {
      const h = harness({ jwtauth });
      expect((await h.run({ scope: 'litellm_proxy_admin', sub: 'root', email: 'root@example.com' }, modelRequest(null, '/key/generate'))).kind).to.equal('admin');
      withTeam(h);
      h.store.users.set('boss', aUser({ user_id: 'boss', user_role: 'proxy_admin' }));
      expect((await h.run({ sub: 'boss', tid: 't1', email: 'boss@example.com' }, modelRequest('gpt-4o'))).kind).to.equal('admin');
      expect(h.directory.calls.filter((c) => c.startsWith('registerClientKey'))).to.deep.equal([]);
    });

    it("refuses a client whose value cannot be registered (an inactive mapping holds it) with the reject 403, as an unregistered client", async () => {
      const h = harness({ jwtauth });
      withTeam(h);
      h.directory.clientKeys.set('email=dev@example.com', null);
      expect(refusal(await h.run({ sub: 'u1', tid: 't1', email: 'dev@example.com' }, modelRequest('gpt-4o')))).to.deep.equal({
        check: 'jwt_key_mapping',
        status: 403,
        type: 'auth_error',
        message: "JWT Key Mapping: No registered mapping for email='dev@example.com'. Access denied.",
      });
    });

    it("refuses a token without the claim (LiteLLM's 403: nothing to register it by), registering nothing", async () => {
      const h = harness({ jwtauth });
      withTeam(h);
      expect(refusal(await h.run({ sub: 'u1', tid: 't1' }, modelRequest('gpt-4o')))).to.deep.include({ check: 'jwt_key_mapping', status: 403 });
      expect(h.directory.calls.filter((c) => c.startsWith('registerClientKey'))).to.deep.equal([]);
    });

    it("answers 503 (retry) when the registration lost the race to a mapping deleted again at once, as LiteLLM does, rather than deciding the client another way", async () => {
      const h = harness({ jwtauth });
      withTeam(h);
      h.directory.registrationRace = true;
      expect(refusal(await h.run({ sub: 'u1', tid: 't1', email: 'dev@example.com' }, modelRequest('gpt-4o')))).to.deep.include({
        check: 'jwt_key_mapping',
        status: 503,
        message: "JWT Key Mapping: mapping for email='dev@example.com' was concurrently removed. Please retry.",
      });
    });
    it("refuses with LiteLLM's 500 when the database cannot take the registration (generate_key_helper_fn's HTTPException), never as an outage allow_requests_on_db_unavailable would allow", async () => {
      const h = harness({ jwtauth });
      withTeam(h);
      h.directory.registrationFailure = true;
      expect(refusal(await h.run({ sub: 'u1', tid: 't1', email: 'dev@example.com' }, modelRequest('gpt-4o')))).to.deep.equal({
        check: 'jwt_key_mapping',
        status: 500,
        type: 'auth_error',
        message: "{'error': 'Internal Server Error.'}",
      });
      expect(h.registrationFailures, 'told why (the claim, never its value)').to.have.length(1);
      expect(h.registrationFailures[0]).to.match(/^email: /);
      expect(h.registrationFailures[0]).to.not.include('dev@example.com');
    });
  });

  describe('objects (get_objects)', () => {
    it('an unknown organization claim → 401; an org alias resolves', async () => {
      const h = harness({ jwtauth: { org_id_jwt_field: 'org', org_alias_jwt_field: 'org_name' } });
      expect(refusal(await h.run({ org: 'o-missing' }))).to.deep.equal({
        check: 'jwt_organization',
        status: 401,
        type: 'auth_error',
        message: "Authentication Error, Organization doesn't exist in db. Organization=o-missing. Create organization via `/organization/new` call.",
      });
      h.directory.orgAliases.set('Acme', ['o-acme']);
      h.store.organizations.set('o-acme', anOrg({ organization_id: 'o-acme' }));
      const outcome = resolved(await h.run({ org_name: 'Acme' }));
      expect(outcome.identity.orgId).to.equal('o-acme');
      expect(outcome.snapshot.organization?.organization_id).to.equal('o-acme');
      expect(refusal(await h.run({ org_name: 'Nobody' })).status).to.equal(404);
    });

    it("the org for the budget check is the token's, else the team's", async () => {
      const h = harness({ jwtauth: { team_id_jwt_field: 'tid', org_id_jwt_field: 'org' } });
      h.store.teams.set('t1', aTeam({ team_id: 't1', organization_id: 'o-team' }));
      h.store.organizations.set('o-team', anOrg({ organization_id: 'o-team' }));
      h.store.organizations.set('o-claim', anOrg({ organization_id: 'o-claim' }));
      expect(resolved(await h.run({ tid: 't1' })).snapshot.organization?.organization_id).to.equal('o-team');
      expect(resolved(await h.run({ tid: 't1', org: 'o-claim' })).snapshot.organization?.organization_id).to.equal('o-claim');
    });

    describe('the user', () => {
      const jwtauth = { user_id_jwt_field: 'sub', user_email_jwt_field: 'email' };

      it('an unknown user is refused (401) unless user_id_upsert', async () => {
        const h = harness({ jwtauth });
        expect(refusal(await h.run({ sub: 'new-user' }))).to.deep.equal({
          check: 'jwt_user',
          status: 401,
          type: 'auth_error',
          message: "Authentication Error, User doesn't exist in db. 'user_id'=new-user. Create user via `/user/new` call. Got error - ",
        });
      });

      it('user_id_upsert creates the user with the email claim and default_internal_user_params', async () => {
        const h = harness({ jwtauth: { ...jwtauth, user_id_upsert: true }, litellm: { default_internal_user_params: { max_budget: 3, models: ['gpt-4o-mini'] } } });
        const outcome = resolved(await h.run({ sub: 'new-user', email: 'new@example.com' }));
        expect(outcome.snapshot.user).to.include({ user_id: 'new-user', user_email: 'new@example.com', max_budget: 3 });
        expect(h.directory.calls).to.include('upsertUser:new-user');
      });

      it("user_id_upsert of an id the database takes for another user's is refused as an unknown user (401)", async () => {
        const h = harness({ jwtauth: { ...jwtauth, user_id_upsert: true } });
        h.directory.takenIds.add('alice ');
        expect(refusal(await h.run({ sub: 'alice ' }))).to.deep.include({ check: 'jwt_user', status: 401 });
        expect(h.directory.calls).to.include('upsertUser:alice ');
      });

      it('user_allowed_email_domain: an email of another domain is not upserted (401)', async () => {
        const h = harness({ jwtauth: { ...jwtauth, user_id_upsert: true, user_allowed_email_domain: 'example.com' } });
        expect(refusal(await h.run({ sub: 'outsider', email: 'x@evil.com' })).check).to.equal('jwt_user');
        expect(h.directory.calls).to.not.include('upsertUser:outsider');
        expect(resolved(await h.run({ sub: 'insider', email: 'x@example.com' })).snapshot.user?.user_id).to.equal('insider');
      });

      it('falls back to a row whose sso_user_id or email matches', async () => {
        const h = harness({ jwtauth });
        h.directory.usersByEmail.set('legacy@example.com', aUser({ user_id: 'legacy-id' }));
        h.store.users.set('legacy-id', aUser({ user_id: 'legacy-id' }));
        expect(resolved(await h.run({ sub: 'sso-123', email: 'Legacy@Example.com' })).snapshot.user?.user_id).to.equal('legacy-id');
      });

      it('takes the matched user row from the user cache, which invalidation reaches, not from the match', async () => {
        const h = harness({ jwtauth });
        h.directory.usersByEmail.set('legacy@example.com', aUser({ user_id: 'legacy-id', spend: 0 }));
        h.store.users.set('legacy-id', aUser({ user_id: 'legacy-id', spend: 9 }));
        expect(resolved(await h.run({ sub: 'sso-123', email: 'legacy@example.com' })).snapshot.user?.spend).to.equal(9);
        h.store.users.delete('legacy-id');
        expect(refusal(await h.run({ sub: 'sso-123', email: 'legacy@example.com' })).check).to.equal('jwt_user');
      });

      it('an organization refusal comes first, and then nothing is written', async () => {
        const h = harness({ jwtauth: { ...jwtauth, user_id_upsert: true, org_id_jwt_field: 'org' } });
        expect(refusal(await h.run({ sub: 'u', org: 'missing' })).check).to.equal('jwt_organization');
        expect(h.directory.calls.filter((c) => c.startsWith('upsert'))).to.deep.equal([]);
      });
    });

    it('an end user over budget is refused before the common checks (400), but not on info routes', async () => {
      const h = harness({ jwtauth: { end_user_id_jwt_field: 'customer' } });
      h.store.endUsers.set('c1', anEndUser({ user_id: 'c1', spend: 5, budget: aBudget({ max_budget: 1 }) }));
      expect(refusal(await h.run({ customer: 'c1' }))).to.deep.include({ check: 'end_user_budget_before_key_lookup', status: 400, type: 'budget_exceeded' });
      expect(resolved(await h.run({ customer: 'c1' }, modelRequest(null, '/model/info'))).identity.endUserId).to.equal('c1');
    });

    it('applies litellm_settings.max_end_user_budget_id to an end user without a budget', async () => {
      const h = harness({ jwtauth: { end_user_id_jwt_field: 'customer' } }, { maxEndUserBudgetId: 'default-eu' });
      h.store.endUsers.set('c2', anEndUser({ user_id: 'c2', spend: 5 }));
      h.store.budgets.set('default-eu', aBudget({ budget_id: 'default-eu', max_budget: 1 }));
      expect(refusal(await h.run({ customer: 'c2' })).status).to.equal(400);
    });

    it("names an end user without a row with the default budget, for the rate limits of LiteLLM's get_end_user_object path", async () => {
      const h = harness({ jwtauth: { end_user_id_jwt_field: 'customer' } }, { maxEndUserBudgetId: 'default-eu' });
      h.store.budgets.set('default-eu', aBudget({ budget_id: 'default-eu', rpm_limit: 1 }));
      const { snapshot } = resolved(await h.run({ customer: 'c-new' }));
      expect(snapshot.endUser).to.equal(null);
      expect(snapshot.unknownEndUser?.user_id).to.equal('c-new');
      expect(snapshot.unknownEndUser?.budget.rpm_limit).to.equal(1);
    });

    it('loads membership, tags, the team access groups and global spend for the common checks', async () => {
      const h = harness({ jwtauth: { team_id_jwt_field: 'tid', user_id_jwt_field: 'sub' } }, { maxBudget: 100 });
      h.store.teams.set('t1', aTeam({ team_id: 't1', access_group_ids: ['ag1'] }));
      h.store.users.set('u1', aUser({ user_id: 'u1' }));
      h.store.memberships.set('u1:t1', aMembership({ user_id: 'u1', team_id: 't1', spend: 2 }));
      h.store.tags.set('prod', aTag({ tag_name: 'prod' }));
      h.store.accessGroups.set('ag1', anAccessGroup({ access_group_id: 'ag1' }));
      h.store.spend = 42;
      const { snapshot } = resolved(await h.run({ tid: 't1', sub: 'u1' }, { body: { model: 'gpt-4o', tags: ['prod'] } }));
      expect(snapshot).to.deep.include({ key: null, project: null, globalSpend: 42 });
      expect(snapshot.membership?.spend).to.equal(2);
      expect(snapshot.tags.map((t) => t.tag_name)).to.deep.equal(['prod']);
      expect([...snapshot.accessGroups.keys()]).to.deep.equal(['ag1']);
    });

    it('validate_object_id: with general_settings.enforce_rbac a token naming no user and no team is refused (403)', async () => {
      const h = harness({ general: { enforce_rbac: true } });
      expect(refusal(await h.run({ sub: 'x' }))).to.deep.include({ check: 'jwt_object_id', status: 403 });
    });
  });

  it('enforce_rbac refuses before anything is loaded', async () => {
    const h = harness({ jwtauth: { enforce_rbac: true } });
    expect(refusal(await h.run({ sub: 'x' })).check).to.equal('jwt_role_policy');
    expect(h.store.calls).to.deep.equal([]);
  });

  it('a bearer token is verified first; a bad one is refused as jwt_verify', async () => {
    const store = new MemoryStore();
    const settings = jwtSettings({ tollgate: { envoy_metadata_namespace: 'ns' }, env: { publicKeyUrl: null } });
    const authenticator = new JwtAuthenticator({ settings, policy: aPolicy(), store, directory: new MemoryDirectory(store), verifier: aVerifier(settings) });
    const outcome = await authenticator.authenticate(aRequest(), { kind: 'bearer', token: 'a.b.c' }, NOW);
    expect(refusal(outcome)).to.deep.include({ check: 'jwt_verify', status: 401 });
  });
});
