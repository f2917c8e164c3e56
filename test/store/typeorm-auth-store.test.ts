import { expect } from 'chai';
import { TypeOrmAuthStore } from '../../src/store/typeorm-auth-store';
import { aTokenHash, LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { describeEachBackend } from '../support/store-backends';

/** The parts of a mysql2 pool the statement-cache test reads; mysql2 types the cache as private. */
interface PooledConnection {
  readonly _statements: { readonly max: number };
  release(): void;
}
interface PoolWithConnections {
  getConnection(callback: (error: Error | null, connection: PooledConnection) => void): void;
}

describeEachBackend('TypeOrmAuthStore', (backend) => {
  let store: TypeOrmAuthStore;
  let rows: LiteLlmRows;

  before(() => {
    store = new TypeOrmAuthStore(backend().dataSource, backend().settings);
    rows = new LiteLlmRows(backend().dataSource);
  });

  describe('findKey', () => {
    it('returns the key row by its hash, with every field the checks read', async () => {
      const budget = await rows.aBudget({ soft_budget: 5 });
      const saved = await rows.aKey({
        key_name: 'sk-...abcd',
        key_alias: 'ci',
        spend: 1.5,
        max_budget: 10,
        expires: new Date('2031-02-03T04:05:06.789Z'),
        models: ['gpt-4o', 'team-*'],
        config: { legacy: true },
        user_id: 'u1',
        team_id: 't1',
        organization_id: 'o1',
        project_id: 'p1',
        agent_id: 'a1',
        budget_id: budget.budget_id,
        object_permission_id: 'op1',
        permissions: { get_spend_routes: true },
        metadata: { allowed_tools: ['search'], tags: ['prod'] },
        blocked: false,
        tpm_limit: 1000,
        rpm_limit: 60,
        allowed_routes: ['/chat/completions'],
        access_group_ids: ['ag1'],
        model_max_budget: { 'gpt-4o': { budget_limit: 1 } },
        model_spend: { 'gpt-4o': 0.25 },
        budget_duration: '30d',
        budget_reset_at: new Date('2031-01-01T00:00:00.000Z'),
        budget_limits: [{ budget_duration: '24h', max_budget: 5, reset_at: '2031-01-02T00:00:00Z' }, { budget_duration: 'soon', max_budget: 1 }],
        aliases: { fast: 'gpt-4o', broken: 7 },
      });
      const key = await store.findKey(saved.token);
      expect(key).to.deep.equal({
        token: saved.token,
        key_name: 'sk-...abcd',
        key_alias: 'ci',
        spend: 1.5,
        max_budget: 10,
        expires: new Date('2031-02-03T04:05:06.789Z'),
        models: ['gpt-4o', 'team-*'],
        config: { legacy: true },
        user_id: 'u1',
        team_id: 't1',
        organization_id: 'o1',
        project_id: 'p1',
        agent_id: 'a1',
        budget_id: budget.budget_id,
        object_permission_id: 'op1',
        permissions: { get_spend_routes: true },
        metadata: { allowed_tools: ['search'], tags: ['prod'] },
        blocked: false,
        tpm_limit: 1000,
        rpm_limit: 60,
        allowed_routes: ['/chat/completions'],
        access_group_ids: ['ag1'],
        model_max_budget: { 'gpt-4o': { budget_limit: 1 } },
        model_spend: { 'gpt-4o': 0.25 },
        budget_duration: '30d',
        budget_reset_at: new Date('2031-01-01T00:00:00.000Z'),
        budget_limits: [{ budget_duration: '24h', max_budget: 5, reset_at: new Date('2031-01-02T00:00:00.000Z') }],
        // A value that names no model (not a string) is dropped, as LiteLLM's lookup could not use it.
        aliases: { fast: 'gpt-4o' },
      });
    });

    it('returns null for an unknown hash', async () => {
      expect(await store.findKey(aTokenHash())).to.equal(null);
    });

    it('compares the hash exactly (an upper-cased hash is another key)', async () => {
      const saved = await rows.aKey();
      expect(await store.findKey(saved.token.toUpperCase())).to.equal(null);
    });

    it('reads NULL list columns, written by another tool, as []', async () => {
      const token = aTokenHash();
      await backend().dataSource.query(
        'INSERT INTO LiteLLM_VerificationToken (token, models, allowed_routes, access_group_ids) VALUES (?, NULL, NULL, NULL)',
        [token],
      );
      const key = await store.findKey(token);
      expect(key?.models).to.deep.equal([]);
      expect(key?.allowed_routes).to.deep.equal([]);
      expect(key?.access_group_ids).to.deep.equal([]);
      expect(key?.metadata).to.deep.equal({});
      expect(key?.spend).to.equal(0);
      expect(key?.blocked).to.equal(null);
    });

    it('reads a list column holding something other than a JSON array of strings as the strings it has, or []', async () => {
      const token = aTokenHash();
      await backend().dataSource.query(
        'INSERT INTO LiteLLM_VerificationToken (token, models, allowed_routes) VALUES (?, ?, ?)',
        [token, '["gpt-4o", 7, null]', '{"not": "a list"}'],
      );
      const key = await store.findKey(token);
      expect(key?.models).to.deep.equal(['gpt-4o']);
      expect(key?.allowed_routes).to.deep.equal([]);
    });

    it('round-trips nested JSON metadata', async () => {
      const metadata = { tags: ['a', 'b'], temp_budget_increase: 2.5, nested: { deep: [{ x: null }, true] }, unicode: 'é✓' };
      const saved = await rows.aKey({ metadata });
      expect((await store.findKey(saved.token))?.metadata).to.deep.equal(metadata);
    });

    it('reads BIGINT limits as numbers', async () => {
      const saved = await rows.aKey({ tpm_limit: 9_007_199_254_740, rpm_limit: 1 });
      const key = await store.findKey(saved.token);
      expect(key?.tpm_limit).to.equal(9_007_199_254_740);
      expect(key?.rpm_limit).to.equal(1);
    });

    it('keeps doubles exact at tiny magnitudes (budgets compare as DOUBLE)', async () => {
      const saved = await rows.aKey({ spend: 0.0000002, max_budget: 0.0000001 });
      const key = await store.findKey(saved.token);
      expect(key?.spend).to.equal(0.0000002);
      expect(key?.max_budget).to.equal(0.0000001);
    });

    it('hands out deeply frozen values', async () => {
      const saved = await rows.aKey({ models: ['gpt-4o'], metadata: { tags: ['x'], nested: { a: 1 } } });
      const key = await store.findKey(saved.token);
      if (key === null) throw new Error('key not found');
      expect(Object.isFrozen(key)).to.equal(true);
      expect(() => (key.models as string[]).push('claude')).to.throw(TypeError);
      expect(Object.isFrozen(key.metadata)).to.equal(true);
      expect(Object.isFrozen(key.metadata.nested)).to.equal(true);
      expect(() => (key.metadata.tags as string[]).push('y')).to.throw(TypeError);
    });
  });

  describe('datetimes', () => {
    it('stores a written Date as UTC text', async () => {
      const saved = await rows.aKey({ expires: new Date('2030-06-15T23:30:00.125Z') });
      const sql =
        backend().name === 'mariadb'
          ? "SELECT DATE_FORMAT(expires, '%Y-%m-%d %H:%i:%s.%f') AS e FROM LiteLLM_VerificationToken WHERE token = ?"
          : 'SELECT expires AS e FROM LiteLLM_VerificationToken WHERE token = ?';
      const [row] = (await backend().dataSource.query(sql, [saved.token])) as { e: string }[];
      // MySQL prints microseconds; the stored value has milliseconds.
      expect(row?.e.slice(0, 23)).to.equal('2030-06-15 23:30:00.125');
    });

    it('reads a stored datetime as UTC, whatever the process time zone', async () => {
      const token = aTokenHash();
      await backend().dataSource.query('INSERT INTO LiteLLM_VerificationToken (token, expires) VALUES (?, ?)', [
        token,
        '2029-12-31 23:59:59.999',
      ]);
      expect((await store.findKey(token))?.expires?.toISOString()).to.equal('2029-12-31T23:59:59.999Z');
    });

    it('runs MySQL sessions in UTC so CURRENT_TIMESTAMP defaults are UTC too', async function () {
      if (backend().name !== 'mariadb') this.skip();
      const [row] = (await backend().dataSource.query('SELECT @@session.time_zone AS tz')) as { tz: string }[];
      expect(row?.tz).to.equal('+00:00');
    });
  });

  describe('the MySQL pool', () => {
    it('sizes the statement cache of each pooled connection for text queries, not at the 16 000 slots of mysql2', async function () {
      if (backend().name !== 'mariadb') this.skip();
      const pool = (backend().dataSource.driver as unknown as { pool: PoolWithConnections }).pool;
      const connection = await new Promise<PooledConnection>((resolve, reject) => {
        pool.getConnection((error, got) => (error === null ? resolve(got) : reject(error)));
      });
      try {
        expect(connection._statements.max).to.equal(64);
      } finally {
        connection.release();
      }
    });
  });

  describe('findTeam', () => {
    it('returns the team with its model aliases joined through model_id', async () => {
      const model = await rows.aModelTable({ fast: 'gpt-4o-mini', smart: 'gpt-4o' });
      const team = await rows.aTeam({
        team_alias: 'search',
        organization_id: 'org-1',
        object_permission_id: 'op-1',
        metadata: { allowed_tools: ['web'] },
        max_budget: 100,
        soft_budget: 80,
        spend: 12.5,
        models: ['gpt-4o'],
        blocked: true,
        tpm_limit: 10,
        rpm_limit: 20,
        access_group_ids: ['ag-1'],
        model_id: model.id,
        budget_limits: ['{"budget_duration": "1mo", "max_budget": 50}', { budget_duration: '1d' }],
        model_max_budget: { 'gpt-4o': { max_budget: 5, budget_duration: '1d' } },
      });
      expect(await store.findTeam(team.team_id)).to.deep.equal({
        team_id: team.team_id,
        team_alias: 'search',
        organization_id: 'org-1',
        object_permission_id: 'op-1',
        metadata: { allowed_tools: ['web'] },
        max_budget: 100,
        soft_budget: 80,
        spend: 12.5,
        models: ['gpt-4o'],
        blocked: true,
        tpm_limit: 10,
        rpm_limit: 20,
        access_group_ids: ['ag-1'],
        model_id: model.id,
        model_aliases: { fast: 'gpt-4o-mini', smart: 'gpt-4o' },
        budget_duration: null,
        budget_reset_at: null,
        budget_limits: [{ budget_duration: '1mo', max_budget: 50, reset_at: null }],
        model_max_budget: { 'gpt-4o': { max_budget: 5, budget_duration: '1d' } },
        model_spend: {},
      });
    });

    it('has empty model aliases without a model row, and drops non-string alias targets', async () => {
      const plain = await rows.aTeam();
      expect((await store.findTeam(plain.team_id))?.model_aliases).to.deep.equal({});
      const dangling = await rows.aTeam({ model_id: 987654 });
      expect((await store.findTeam(dangling.team_id))?.model_aliases).to.deep.equal({});
      const odd = await rows.aModelTable({ ok: 'gpt-4o' });
      await backend().dataSource.query('UPDATE LiteLLM_ModelTable SET aliases = ? WHERE id = ?', ['{"ok":"gpt-4o","bad":3}', odd.id]);
      const team = await rows.aTeam({ model_id: odd.id });
      expect((await store.findTeam(team.team_id))?.model_aliases).to.deep.equal({ ok: 'gpt-4o' });
    });

    it('returns null for an unknown team', async () => {
      expect(await store.findTeam(uniqueId('nope'))).to.equal(null);
    });

    it('compares ids case-sensitively, as LiteLLM on Postgres does', async () => {
      const team = await rows.aTeam({ team_id: uniqueId('Team-Case') });
      expect(await store.findTeam(team.team_id.toLowerCase())).to.equal(null);
    });
  });

  describe('findMembership', () => {
    it('returns the membership with its budget joined', async () => {
      const budget = await rows.aBudget({ max_budget: 5, tpm_limit: 100, rpm_limit: 10, allowed_models: ['gpt-4o'] });
      const teamId = uniqueId('team');
      await rows.aTeamMembership({ user_id: 'alice', team_id: teamId, spend: 4.2, budget_id: budget.budget_id });
      expect(await store.findMembership('alice', teamId)).to.deep.equal({
        user_id: 'alice',
        team_id: teamId,
        spend: 4.2,
        budget: {
          budget_id: budget.budget_id,
          max_budget: 5,
          soft_budget: null,
          tpm_limit: 100,
          rpm_limit: 10,
          allowed_models: ['gpt-4o'],
          model_max_budget: null,
          budget_duration: null,
          budget_reset_at: null,
        },
      });
    });

    it('has a null budget when the membership has none', async () => {
      const teamId = uniqueId('team');
      await rows.aTeamMembership({ user_id: 'bob', team_id: teamId });
      expect((await store.findMembership('bob', teamId))?.budget).to.equal(null);
    });

    it('returns null when the user is not a member of that team', async () => {
      const teamId = uniqueId('team');
      await rows.aTeamMembership({ user_id: 'carol', team_id: teamId });
      expect(await store.findMembership('carol', uniqueId('other-team'))).to.equal(null);
      expect(await store.findMembership('dave', teamId)).to.equal(null);
    });
  });

  describe('findUser', () => {
    it('returns the user with every organization membership', async () => {
      const user = await rows.aUser({
        user_alias: 'Alice',
        user_email: 'alice@example.com',
        user_role: 'internal_user',
        max_budget: 50,
        spend: 3,
        models: ['no-default-models'],
        metadata: { scim_active: true },
        tpm_limit: 5,
        rpm_limit: 6,
        model_max_budget: { 'gpt-4o': { budget_limit: 1, time_period: '1d' } },
        model_spend: { 'gpt-4o': 0.25 },
      });
      await rows.anOrganizationMembership({ user_id: user.user_id, organization_id: 'org-b', user_role: 'internal_user' });
      await rows.anOrganizationMembership({ user_id: user.user_id, organization_id: 'org-a', user_role: 'org_admin' });
      expect(await store.findUser(user.user_id)).to.deep.equal({
        user_id: user.user_id,
        user_alias: 'Alice',
        user_email: 'alice@example.com',
        user_role: 'internal_user',
        max_budget: 50,
        spend: 3,
        models: ['no-default-models'],
        metadata: { scim_active: true },
        tpm_limit: 5,
        rpm_limit: 6,
        organization_memberships: [
          { user_id: user.user_id, organization_id: 'org-a', user_role: 'org_admin' },
          { user_id: user.user_id, organization_id: 'org-b', user_role: 'internal_user' },
        ],
        budget_duration: null,
        budget_reset_at: null,
        model_max_budget: { 'gpt-4o': { budget_limit: 1, time_period: '1d' } },
        model_spend: { 'gpt-4o': 0.25 },
        budget_limits: [],
      });
    });

    it('returns a user without memberships with an empty list', async () => {
      const user = await rows.aUser();
      expect((await store.findUser(user.user_id))?.organization_memberships).to.deep.equal([]);
    });

    it('returns null for an unknown user', async () => {
      expect(await store.findUser(uniqueId('ghost'))).to.equal(null);
    });
  });

  describe('findEndUser', () => {
    it('returns the end user with its own budget joined', async () => {
      const budget = await rows.aBudget({ max_budget: 2 });
      const endUser = await rows.anEndUser({ alias: 'customer', spend: 1, blocked: true, allowed_model_region: 'eu', budget_id: budget.budget_id });
      const found = await store.findEndUser(endUser.user_id);
      expect(found).to.deep.include({ user_id: endUser.user_id, alias: 'customer', spend: 1, blocked: true, allowed_model_region: 'eu', budget_id: budget.budget_id });
      expect(found?.budget?.max_budget).to.equal(2);
    });

    it('leaves the budget null when the end user has none (the caller applies the default)', async () => {
      const endUser = await rows.anEndUser();
      expect((await store.findEndUser(endUser.user_id))?.budget).to.equal(null);
    });

    it('returns null for an unknown end user', async () => {
      expect(await store.findEndUser(uniqueId('nobody'))).to.equal(null);
    });
  });

  describe('findOrganization', () => {
    it('returns the organization with its budget joined', async () => {
      const budget = await rows.aBudget({ max_budget: 1000 });
      const org = await rows.anOrganization({ organization_alias: 'Acme', budget_id: budget.budget_id, spend: 999, models: ['gpt-4o'], metadata: { tier: 'gold' } });
      expect(await store.findOrganization(org.organization_id)).to.deep.equal({
        organization_id: org.organization_id,
        organization_alias: 'Acme',
        budget_id: budget.budget_id,
        spend: 999,
        models: ['gpt-4o'],
        metadata: { tier: 'gold' },
        budget: {
          budget_id: budget.budget_id,
          max_budget: 1000,
          soft_budget: null,
          tpm_limit: null,
          rpm_limit: null,
          allowed_models: [],
          model_max_budget: null,
          budget_duration: null,
          budget_reset_at: null,
        },
      });
    });

    it('returns null for an unknown organization', async () => {
      expect(await store.findOrganization(uniqueId('org'))).to.equal(null);
    });
  });

  describe('findProject', () => {
    it('returns the project with its budget joined', async () => {
      const budget = await rows.aBudget({ max_budget: 7, soft_budget: 6 });
      const project = await rows.aProject({ project_alias: 'p', team_id: 'team-x', budget_id: budget.budget_id, spend: 1, models: [], blocked: true, metadata: { a: 1 } });
      const found = await store.findProject(project.project_id);
      expect(found).to.deep.include({ project_id: project.project_id, project_alias: 'p', team_id: 'team-x', spend: 1, models: [], blocked: true, metadata: { a: 1 } });
      expect(found?.budget?.soft_budget).to.equal(6);
    });

    it('returns null for an unknown project', async () => {
      expect(await store.findProject(uniqueId('project'))).to.equal(null);
    });
  });

  describe('findTags', () => {
    it('returns the known tags among the names, budgets joined; unknown names are absent', async () => {
      const budget = await rows.aBudget({ max_budget: 3 });
      const a = await rows.aTag({ spend: 1, budget_id: budget.budget_id });
      const b = await rows.aTag();
      const found = await store.findTags([a.tag_name, uniqueId('unknown'), b.tag_name, a.tag_name]);
      expect(found.map((t) => t.tag_name).sort()).to.deep.equal([a.tag_name, b.tag_name].sort());
      const tagA = found.find((t) => t.tag_name === a.tag_name);
      expect(tagA).to.deep.include({ spend: 1, budget_id: budget.budget_id });
      expect(tagA?.budget?.max_budget).to.equal(3);
      expect(found.find((t) => t.tag_name === b.tag_name)?.budget).to.equal(null);
    });

    it('returns [] for no names', async () => {
      expect(await store.findTags([])).to.deep.equal([]);
    });
  });

  describe('findAccessGroups', () => {
    it('returns the existing groups among the ids', async () => {
      const group = await rows.anAccessGroup({ access_model_names: ['gpt-4o', 'claude-3'] });
      const found = await store.findAccessGroups([group.access_group_id, uniqueId('missing')]);
      expect(found).to.deep.equal([
        { access_group_id: group.access_group_id, access_group_name: group.access_group_name, access_model_names: ['gpt-4o', 'claude-3'] },
      ]);
    });

    it('returns [] for no ids', async () => {
      expect(await store.findAccessGroups([])).to.deep.equal([]);
    });
  });

  describe('findObjectPermissions', () => {
    it('returns the existing rows among the ids, with their vector-store allowlists', async () => {
      const open = await rows.anObjectPermission();
      const narrow = await rows.anObjectPermission({ vector_stores: ['vs-1', 'vs-2'] });
      const found = await store.findObjectPermissions([narrow.object_permission_id, uniqueId('missing'), open.object_permission_id]);
      expect(found.sort((a, b) => a.object_permission_id.localeCompare(b.object_permission_id))).to.deep.equal(
        [
          { object_permission_id: open.object_permission_id, vector_stores: [] },
          { object_permission_id: narrow.object_permission_id, vector_stores: ['vs-1', 'vs-2'] },
        ].sort((a, b) => a.object_permission_id.localeCompare(b.object_permission_id)),
      );
    });

    it('reads a NULL vector_stores column as [] (every store allowed, §4.11)', async () => {
      const row = await rows.anObjectPermission();
      await backend().dataSource.query(
        'UPDATE LiteLLM_ObjectPermissionTable SET vector_stores = NULL WHERE object_permission_id = ?',
        [row.object_permission_id],
      );
      expect(await store.findObjectPermissions([row.object_permission_id])).to.deep.equal([
        { object_permission_id: row.object_permission_id, vector_stores: [] },
      ]);
    });

    it('returns [] for no ids', async () => {
      expect(await store.findObjectPermissions([])).to.deep.equal([]);
    });
  });

  describe('findAgent', () => {
    it('returns the agent with its litellm_params and its rate limits (null: unlimited)', async () => {
      const agent = await rows.anAgent({
        litellm_params: { require_trace_id_on_calls_by_agent: true },
        object_permission_id: 'perm-1',
        rpm_limit: 10,
        session_tpm_limit: 500,
      });
      expect(await store.findAgent(agent.agent_id)).to.deep.equal({
        agent_id: agent.agent_id,
        agent_name: agent.agent_name,
        litellm_params: { require_trace_id_on_calls_by_agent: true },
        object_permission_id: 'perm-1',
        rpm_limit: 10,
        tpm_limit: null,
        session_rpm_limit: null,
        session_tpm_limit: 500,
      });
    });

    it('reads NULL litellm_params as {}', async () => {
      const agent = await rows.anAgent({ litellm_params: null });
      expect((await store.findAgent(agent.agent_id))?.litellm_params).to.deep.equal({});
    });

    it('returns null for an unknown agent', async () => {
      expect(await store.findAgent(uniqueId('agent'))).to.equal(null);
    });
  });

  describe('findBudget', () => {
    it('returns the budget row', async () => {
      const budget = await rows.aBudget({
        max_budget: 1,
        soft_budget: 0.5,
        tpm_limit: 2,
        rpm_limit: 3,
        model_max_budget: { 'gpt-4o': 1 },
        budget_duration: '1d',
        budget_reset_at: new Date('2032-01-01T00:00:00.000Z'),
        allowed_models: ['gpt-4o'],
      });
      expect(await store.findBudget(budget.budget_id)).to.deep.equal({
        budget_id: budget.budget_id,
        max_budget: 1,
        soft_budget: 0.5,
        tpm_limit: 2,
        rpm_limit: 3,
        allowed_models: ['gpt-4o'],
        model_max_budget: { 'gpt-4o': 1 },
        budget_duration: '1d',
        budget_reset_at: new Date('2032-01-01T00:00:00.000Z'),
      });
    });

    it('returns null for an unknown budget', async () => {
      expect(await store.findBudget(uniqueId('budget'))).to.equal(null);
    });
  });

  describe('globalSpend', () => {
    const now = new Date('2030-03-31T15:00:00.000Z');
    const daysAgo = (days: number, hours = 0) => new Date(now.getTime() - days * 86_400_000 - hours * 3_600_000);

    beforeEach(async () => {
      await backend().dataSource.query('DELETE FROM LiteLLM_SpendLogs');
    });

    it("sums LiteLLM_SpendLogs over LiteLLM's rolling 30 days; a log 31 days old is not counted", async () => {
      const pinned = new TypeOrmAuthStore(backend().dataSource, backend().settings, () => now);
      await rows.aSpendLog({ spend: 1.25, startTime: daysAgo(0, 1) });
      await rows.aSpendLog({ spend: 2, startTime: daysAgo(29) });
      await rows.aSpendLog({ spend: 100, startTime: daysAgo(31) });
      expect(await pinned.globalSpend()).to.equal(3.25);
    });

    it('starts the window at midnight UTC 30 days back (CURRENT_DATE - 30 days), as LiteLLM does', async () => {
      const pinned = new TypeOrmAuthStore(backend().dataSource, backend().settings, () => now);
      await rows.aSpendLog({ spend: 1, startTime: new Date('2030-03-01T00:00:00.000Z') }); // the first instant in
      await rows.aSpendLog({ spend: 10, startTime: new Date('2030-02-28T23:59:59.999Z') }); // the last instant out
      expect(await pinned.globalSpend()).to.equal(1);
    });

    it('is 0 with no logs', async () => {
      expect(await store.globalSpend()).to.equal(0);
    });
  });

  describe('ids containing SQL metacharacters', () => {
    const hostile = "x' OR '1'='1";
    const others = ['a"; DROP TABLE LiteLLM_TeamTable; --', 'back\\slash', '%', '_', '`tick`'];

    it('are just ids: nothing matches unless a row has exactly that id', async () => {
      await rows.aTeam();
      await rows.aKey();
      await rows.aTag();
      for (const id of [hostile, ...others]) {
        expect(await store.findKey(id), id).to.equal(null);
        expect(await store.findTeam(id), id).to.equal(null);
        expect(await store.findUser(id), id).to.equal(null);
        expect(await store.findMembership(id, id), id).to.equal(null);
        expect(await store.findEndUser(id), id).to.equal(null);
        expect(await store.findOrganization(id), id).to.equal(null);
        expect(await store.findProject(id), id).to.equal(null);
        expect(await store.findBudget(id), id).to.equal(null);
        expect(await store.findTags([id]), id).to.deep.equal([]);
        expect(await store.findAccessGroups([id]), id).to.deep.equal([]);
      }
    });

    it('find the row whose id is exactly that string', async () => {
      await rows.aTeam({ team_id: hostile });
      await rows.aTag({ tag_name: hostile });
      expect((await store.findTeam(hostile))?.team_id).to.equal(hostile);
      expect((await store.findTags([hostile])).map((t) => t.tag_name)).to.deep.equal([hostile]);
      const [row] = (await backend().dataSource.query('SELECT COUNT(*) AS n FROM LiteLLM_TeamTable')) as { n: number | string }[];
      expect(Number(row?.n)).to.be.greaterThan(1);
    });
  });

  describe('ids the collation matches but the row does not hold (a trailing space)', () => {
    // MariaDB's PAD SPACE collations compare 'x ' equal to 'x'; a row found so would be cached
    // under the padded id, where the invalidation of its own id never reaches it.
    it('find nothing, as LiteLLM on Postgres finds nothing', async () => {
      const key = await rows.aKey();
      const team = await rows.aTeam();
      const user = await rows.aUser();
      await rows.aTeamMembership({ user_id: user.user_id, team_id: team.team_id });
      const endUser = await rows.anEndUser();
      const organization = await rows.anOrganization();
      const project = await rows.aProject();
      const budget = await rows.aBudget();
      const tag = await rows.aTag();
      const group = await rows.anAccessGroup();
      const permission = await rows.anObjectPermission();
      const agent = await rows.anAgent();
      expect(await store.findKey(`${key.token} `)).to.equal(null);
      expect(await store.findTeam(`${team.team_id} `)).to.equal(null);
      expect(await store.findUser(`${user.user_id} `)).to.equal(null);
      expect(await store.findMembership(`${user.user_id} `, team.team_id)).to.equal(null);
      expect(await store.findMembership(user.user_id, `${team.team_id} `)).to.equal(null);
      expect(await store.findEndUser(`${endUser.user_id} `)).to.equal(null);
      expect(await store.findOrganization(`${organization.organization_id} `)).to.equal(null);
      expect(await store.findProject(`${project.project_id} `)).to.equal(null);
      expect(await store.findBudget(`${budget.budget_id} `)).to.equal(null);
      expect(await store.findAgent(`${agent.agent_id} `)).to.equal(null);
      expect(await store.findTags([`${tag.tag_name} `])).to.deep.equal([]);
      expect(await store.findAccessGroups([`${group.access_group_id} `])).to.deep.equal([]);
      expect(await store.findObjectPermissions([`${permission.object_permission_id} `])).to.deep.equal([]);
      // The same rows under their own ids.
      expect((await store.findTeam(team.team_id))?.team_id).to.equal(team.team_id);
      expect((await store.findMembership(user.user_id, team.team_id))?.team_id).to.equal(team.team_id);
      expect((await store.findTags([tag.tag_name, `${tag.tag_name} `])).map((t) => t.tag_name)).to.deep.equal([tag.tag_name]);
      expect((await store.findAgent(agent.agent_id))?.agent_id).to.equal(agent.agent_id);
    });
  });

  describe('ping', () => {
    it('resolves while the database answers', async () => {
      await store.ping();
    });
  });
});
