import { expect } from 'chai';
import { StoreTimeoutError } from '../../src/store/deadline';
import { TypeOrmJwtDirectory } from '../../src/store/jwt-directory';
import { TypeOrmAuthStore } from '../../src/store/typeorm-auth-store';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { describeEachBackend } from '../support/store-backends';

describeEachBackend('TypeOrmJwtDirectory', (backend) => {
  let directory: TypeOrmJwtDirectory;
  let store: TypeOrmAuthStore;
  let rows: LiteLlmRows;

  before(() => {
    directory = new TypeOrmJwtDirectory(backend().dataSource, backend().settings);
    store = new TypeOrmAuthStore(backend().dataSource, backend().settings);
    rows = new LiteLlmRows(backend().dataSource);
  });

  describe('findUserBySsoIdOrEmail (LiteLLM _get_fuzzy_user_object)', () => {
    it('finds a user by sso_user_id, with its organization memberships', async () => {
      const user = await rows.aUser({ sso_user_id: uniqueId('sso') });
      const org = await rows.anOrganization();
      await rows.anOrganizationMembership({ user_id: user.user_id, organization_id: org.organization_id, user_role: 'org_admin' });
      const found = await directory.findUserBySsoIdOrEmail(user.sso_user_id, null);
      expect(found?.user_id).to.equal(user.user_id);
      expect(found?.organization_memberships).to.deep.equal([{ user_id: user.user_id, organization_id: org.organization_id, user_role: 'org_admin' }]);
    });

    it('falls back to the email, compared case-insensitively', async () => {
      const email = `${uniqueId('Mixed.Case')}@Example.com`;
      const user = await rows.aUser({ user_email: email });
      expect((await directory.findUserBySsoIdOrEmail('no-such-sso', email.toLowerCase()))?.user_id).to.equal(user.user_id);
      expect((await directory.findUserBySsoIdOrEmail(null, email.toUpperCase()))?.user_id).to.equal(user.user_id);
    });

    it("finds no user under another spelling the collation takes for its own (trailing spaces; case, but for the email's)", async () => {
      const email = `${uniqueId('padded')}@example.com`;
      const user = await rows.aUser({ sso_user_id: uniqueId('Sso'), user_email: email });
      expect(await directory.findUserBySsoIdOrEmail(`${user.sso_user_id} `, null)).to.equal(null);
      expect(await directory.findUserBySsoIdOrEmail(String(user.sso_user_id).toLowerCase(), null)).to.equal(null);
      expect(await directory.findUserBySsoIdOrEmail(null, `${email} `)).to.equal(null);
      expect((await directory.findUserBySsoIdOrEmail(null, email.toUpperCase()))?.user_id).to.equal(user.user_id);
    });

    it('is null when neither matches', async () => {
      expect(await directory.findUserBySsoIdOrEmail(uniqueId('sso'), `${uniqueId('x')}@nowhere.io`)).to.equal(null);
      expect(await directory.findUserBySsoIdOrEmail(null, null)).to.equal(null);
    });
  });

  describe('upsertUser (user_id_upsert)', () => {
    it('creates the LiteLLM_UserTable row with the email and default_internal_user_params', async () => {
      const userId = uniqueId('jwt-user');
      const user = await directory.upsertUser({ userId, email: 'new@example.com', role: 'internal_user_viewer', maxBudget: 5, models: ['gpt-4o-mini'] });
      expect(user).to.include({ user_id: userId, user_email: 'new@example.com', user_role: 'internal_user_viewer', max_budget: 5, spend: 0 });
      expect(user?.models).to.deep.equal(['gpt-4o-mini']);
      expect(await store.findUser(userId)).to.deep.equal(user);
    });

    it('leaves an existing row as it is and returns it', async () => {
      const existing = await rows.aUser({ user_role: 'proxy_admin', max_budget: 100 });
      const user = await directory.upsertUser({ userId: existing.user_id, email: null, role: null, maxBudget: null, models: [] });
      expect(user).to.include({ user_role: 'proxy_admin', max_budget: 100 });
    });

    it('two concurrent upserts of one user both succeed with the same row', async () => {
      const userId = uniqueId('race');
      const input = { userId, email: null, role: null, maxBudget: null, models: [] };
      const [a, b] = await Promise.all([directory.upsertUser(input), directory.upsertUser(input)]);
      expect(a?.user_id).to.equal(userId);
      expect(b).to.deep.equal(a);
    });
  });

  describe('upsertTeam (team_id_upsert)', () => {
    it('creates a bare team (no budget, all models), then returns the existing one', async () => {
      const teamId = uniqueId('jwt-team');
      const team = await directory.upsertTeam(teamId);
      expect(team).to.include({ team_id: teamId, max_budget: null, blocked: false, spend: 0 });
      expect(team?.models).to.deep.equal([]);
      expect(await directory.upsertTeam(teamId)).to.deep.equal(team);
    });
  });

  describe('an id equal to another row\'s under the collation (a trailing space)', () => {
    // MariaDB's PAD SPACE collation takes 'x ' for the key of 'x'. The INSERT's duplicate key is
    // no outage: counted as one, allow_requests_on_db_unavailable would allow as the proxy admin.
    it('creates the row where the database tells the ids apart, and answers null where it cannot', async () => {
      const user = await rows.aUser();
      const team = await rows.aTeam();
      const newUser = await directory.upsertUser({ userId: `${user.user_id} `, email: null, role: null, maxBudget: null, models: [] });
      const newTeam = await directory.upsertTeam(`${team.team_id} `);
      if (backend().name === 'mariadb') {
        expect(newUser).to.equal(null);
        expect(newTeam).to.equal(null);
      } else {
        expect(newUser?.user_id).to.equal(`${user.user_id} `);
        expect(newTeam?.team_id).to.equal(`${team.team_id} `);
      }
      expect((await store.findUser(user.user_id))?.user_id, 'the other row untouched').to.equal(user.user_id);
    });
  });

  describe('aliases', () => {
    it('match byte for byte, as on Postgres: not under a trailing space or another case', async () => {
      const alias = uniqueId('Exact Alias');
      const team = await rows.aTeam({ team_alias: alias });
      const org = await rows.anOrganization({ organization_alias: alias });
      for (const other of [`${alias} `, alias.toLowerCase()]) {
        expect(await directory.teamIdsWithAlias(other), other).to.deep.equal([]);
        expect(await directory.organizationIdsWithAlias(other), other).to.deep.equal([]);
      }
      expect(await directory.teamIdsWithAlias(alias)).to.deep.equal([team.team_id]);
      expect(await directory.organizationIdsWithAlias(alias)).to.deep.equal([org.organization_id]);
    });

    it('returns the ids of the teams and organizations with an alias (at most two: enough to refuse ambiguity)', async () => {
      const alias = uniqueId('Platform Team');
      const t1 = await rows.aTeam({ team_alias: alias });
      expect(await directory.teamIdsWithAlias(alias)).to.deep.equal([t1.team_id]);
      await rows.aTeam({ team_alias: alias });
      await rows.aTeam({ team_alias: alias });
      expect(await directory.teamIdsWithAlias(alias)).to.have.length(2);
      expect(await directory.teamIdsWithAlias(uniqueId('none'))).to.deep.equal([]);

      const orgAlias = uniqueId('Acme');
      const org = await rows.anOrganization({ organization_alias: orgAlias });
      expect(await directory.organizationIdsWithAlias(orgAlias)).to.deep.equal([org.organization_id]);
    });

    it('treats hostile aliases as data', async () => {
      expect(await directory.teamIdsWithAlias("x' OR '1'='1")).to.deep.equal([]);
    });
  });

  it('bounds every statement by dbTimeoutMs', async () => {
    const slow = new TypeOrmJwtDirectory(backend().dataSource, { dbTimeoutMs: 1 });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => slow.teamIdsWithAlias(uniqueId('a')).then(() => null, (e: unknown) => e)),
    );
    // SQLite may answer within 1 ms; what must never happen is another kind of error.
    for (const result of results) if (result !== null) expect(result).to.be.instanceOf(StoreTimeoutError);
  });
});
