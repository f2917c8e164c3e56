/**
 * The flush into LiteLLM's tables, on MariaDB and SQLite: every entity's spend column and one
 * SpendLogs row per request, written once however often a batch is replayed or raced.
 */
import { expect } from 'chai';
import type { DataSource } from 'typeorm';
import { SpendWriter, type QueuedSpend } from '../../src/spend/spend-writer';
import type { SpendEvent } from '../../src/spend/spend-event';
import { toSqlUtc } from '../../src/store/spend-window';
import { LiteLlmRows, aTokenHash, uniqueId } from '../support/litellm-rows';
import { describeEachBackend } from '../support/store-backends';

function anEvent(overrides: Partial<SpendEvent['attribution']> & { cost?: number; requestId?: string; chargeId?: string } = {}): SpendEvent {
  const { cost, requestId = uniqueId('req'), chargeId, ...attribution } = overrides;
  return {
    chargeId: chargeId ?? `${requestId}:${uniqueId('chatcmpl')}`,
    requestId,
    callType: 'acompletion',
    attribution: { keyHash: null, userId: null, teamId: null, orgId: null, projectId: null, endUserId: null, tags: [], model: 'gpt-4o', ...attribution },
    model: 'gpt-4o-2024-08-06',
    usage: { inputTokens: 90, cacheReadTokens: 10, cacheCreationTokens: 0, outputTokens: 20 },
    cost: cost ?? 0.5,
    startTime: Date.UTC(2025, 5, 1, 12, 0, 0),
    endTime: Date.UTC(2025, 5, 1, 12, 0, 2),
    completionStartTime: Date.UTC(2025, 5, 1, 12, 0, 1),
  };
}

const queued = (event: SpendEvent, windows: Record<string, number> = {}): QueuedSpend => ({ event, windows: new Map(Object.entries(windows)) });

async function spendOf(dataSource: DataSource, table: string, column: string, id: string): Promise<number | null> {
  const quote = dataSource.options.type === 'better-sqlite3' ? '"' : '`';
  const rows: { spend: number | string | null }[] = await dataSource.query(`SELECT spend FROM ${quote}${table}${quote} WHERE ${column} = ?`, [id]);
  return rows.length === 0 ? null : Number(rows[0].spend);
}

describeEachBackend('spend: SpendWriter', (backend) => {
  it('adds to every charged row and writes LiteLLM_SpendLogs with LiteLLM columns', async () => {
    const { dataSource } = backend();
    const rows = new LiteLlmRows(dataSource);
    const team = await rows.aTeam({ spend: 1 });
    const user = await rows.aUser();
    await rows.aTeamMembership({ user_id: user.user_id, team_id: team.team_id, spend: 2 });
    const org = await rows.anOrganization();
    const project = await rows.aProject();
    const tag = await rows.aTag();
    const key = await rows.aKey({ team_id: team.team_id, user_id: user.user_id });
    const endUser = uniqueId('customer');
    const event = anEvent({
      keyHash: key.token,
      teamId: team.team_id,
      userId: user.user_id,
      orgId: org.organization_id,
      projectId: project.project_id,
      endUserId: endUser,
      tags: [tag.tag_name],
    });
    expect(await new SpendWriter(dataSource).write([queued(event)])).to.equal(1);
    expect(await spendOf(dataSource, 'LiteLLM_VerificationToken', 'token', key.token)).to.equal(0.5);
    expect(await spendOf(dataSource, 'LiteLLM_TeamTable', 'team_id', team.team_id)).to.equal(1.5);
    expect(await spendOf(dataSource, 'LiteLLM_UserTable', 'user_id', user.user_id)).to.equal(0.5);
    expect(await spendOf(dataSource, 'LiteLLM_TeamMembership', 'team_id', team.team_id)).to.equal(2.5);
    expect(await spendOf(dataSource, 'LiteLLM_OrganizationTable', 'organization_id', org.organization_id)).to.equal(0.5);
    expect(await spendOf(dataSource, 'LiteLLM_ProjectTable', 'project_id', project.project_id)).to.equal(0.5);
    expect(await spendOf(dataSource, 'LiteLLM_TagTable', 'tag_name', tag.tag_name)).to.equal(0.5);
    expect(await spendOf(dataSource, 'LiteLLM_EndUserTable', 'user_id', endUser), 'end user created on first spend, as LiteLLM').to.equal(0.5);
    const [log] = await dataSource.query('SELECT * FROM LiteLLM_SpendLogs WHERE request_id = ?', [event.chargeId]);
    expect(log).to.include({
      call_type: 'acompletion',
      api_key: key.token,
      prompt_tokens: 100,
      completion_tokens: 20,
      total_tokens: 120,
      model: 'gpt-4o-2024-08-06',
      model_group: 'gpt-4o',
      user: user.user_id,
      team_id: team.team_id,
      end_user: endUser,
      status: 'success',
      request_duration_ms: 2000,
    });
    const json = (value: unknown): unknown => (typeof value === 'string' ? JSON.parse(value) : value);
    expect(json(log.request_tags)).to.deep.equal([tag.tag_name]);
    expect(json(log.metadata)).to.deep.include({ user_api_key: key.token, user_api_key_team_id: team.team_id, x_request_id: event.requestId });
  });

  it('writes two charges under one client-chosen x-request-id as two rows (each response its own charge id)', async () => {
    const { dataSource } = backend();
    const key = await new LiteLlmRows(dataSource).aKey();
    const requestId = uniqueId('client-chosen');
    const events = [anEvent({ keyHash: key.token, requestId, cost: 0.1 }), anEvent({ keyHash: key.token, requestId, cost: 0.1 })];
    const writer = new SpendWriter(dataSource);
    expect(await writer.write([queued(events[0])])).to.equal(1);
    expect(await writer.write([queued(events[1])])).to.equal(1);
    expect(await spendOf(dataSource, 'LiteLLM_VerificationToken', 'token', key.token)).to.be.closeTo(0.2, 1e-9);
  });

  it('writes nothing twice: a replayed batch, a batch repeating an id, and two writers racing', async () => {
    const { dataSource } = backend();
    const key = await new LiteLlmRows(dataSource).aKey();
    const events = Array.from({ length: 5 }, () => anEvent({ keyHash: key.token, cost: 0.1 }));
    const writer = new SpendWriter(dataSource);
    expect(await writer.write(events.slice(0, 3).map((e) => queued(e)))).to.equal(3);
    expect(await writer.write([...events, events[0]].map((e) => queued(e)))).to.equal(2);
    const other = new SpendWriter(dataSource);
    const more = Array.from({ length: 5 }, () => anEvent({ keyHash: key.token, cost: 0.1 }));
    const written = await Promise.all([writer.write(more.map((e) => queued(e))), other.write(more.map((e) => queued(e)))]);
    expect(written[0] + written[1]).to.equal(5);
    expect(await spendOf(dataSource, 'LiteLLM_VerificationToken', 'token', key.token)).to.be.closeTo(1, 1e-9);
    const [{ n }] = await dataSource.query('SELECT COUNT(*) AS n FROM LiteLLM_SpendLogs WHERE api_key = ?', [key.token]);
    expect(Number(n)).to.equal(10);
  });

  it("applies a key's budget window: a newer window resets the row, an older one no longer adds to it", async () => {
    const { dataSource } = backend();
    const resetAt = new Date(Date.UTC(2025, 5, 1));
    const key = await new LiteLlmRows(dataSource).aKey({ token: aTokenHash(), spend: 7, budget_duration: '30d', budget_reset_at: resetAt });
    const writer = new SpendWriter(dataSource);
    const name = `key:${key.token}`;
    await writer.write([queued(anEvent({ keyHash: key.token, cost: 1 }), { [name]: resetAt.getTime() })]);
    expect(await spendOf(dataSource, 'LiteLLM_VerificationToken', 'token', key.token), 'same window: added').to.equal(8);
    const next = resetAt.getTime() + 30 * 86_400_000;
    await writer.write([queued(anEvent({ keyHash: key.token, cost: 2 }), { [name]: next })]);
    expect(await spendOf(dataSource, 'LiteLLM_VerificationToken', 'token', key.token), 'new window: reset first').to.equal(2);
    const [row] = await dataSource.query('SELECT budget_reset_at FROM LiteLLM_VerificationToken WHERE token = ?', [key.token]);
    expect(toSqlUtc(new Date(row.budget_reset_at instanceof Date ? row.budget_reset_at : `${String(row.budget_reset_at).replace(' ', 'T')}Z`))).to.equal(toSqlUtc(new Date(next)));
    await writer.write([queued(anEvent({ keyHash: key.token, cost: 4 }), { [name]: resetAt.getTime() })]);
    expect(await spendOf(dataSource, 'LiteLLM_VerificationToken', 'token', key.token), 'late event of the old window: logged, not added').to.equal(2);
  });

  it("keeps a window an admin edited while a counter still ran in the old one: the charge is added, the new reset date stays", async () => {
    const { dataSource } = backend();
    const now = Date.now();
    const day = 86_400_000;
    const readResetAt = async (token: string): Promise<string> => {
      const [row] = await dataSource.query('SELECT budget_reset_at FROM LiteLLM_VerificationToken WHERE token = ?', [token]);
      const value: unknown = row.budget_reset_at;
      return toSqlUtc(value instanceof Date ? value : new Date(`${String(value).replace(' ', 'T')}Z`));
    };
    const writer = new SpendWriter(dataSource, () => now);
    // Shortened to a day (LiteLLM moved budget_reset_at to tomorrow); charged in the counter's old 30-day window.
    const tomorrow = new Date(now + day);
    const shortened = await new LiteLlmRows(dataSource).aKey({ token: aTokenHash(), spend: 4, budget_duration: '1d', budget_reset_at: tomorrow });
    await writer.write([queued(anEvent({ keyHash: shortened.token, cost: 1 }), { [`key:${shortened.token}`]: now + 20 * day })]);
    expect(await spendOf(dataSource, 'LiteLLM_VerificationToken', 'token', shortened.token), 'added, not reset').to.equal(5);
    expect(await readResetAt(shortened.token), 'the edited reset date stays').to.equal(toSqlUtc(tomorrow));
    // Lengthened: the row's window now ends after the counter's, which has not ended.
    const later = new Date(now + 30 * day);
    const lengthened = await new LiteLlmRows(dataSource).aKey({ token: aTokenHash(), spend: 4, budget_duration: '30d', budget_reset_at: later });
    await writer.write([queued(anEvent({ keyHash: lengthened.token, cost: 1 }), { [`key:${lengthened.token}`]: now + day })]);
    expect(await spendOf(dataSource, 'LiteLLM_VerificationToken', 'token', lengthened.token), 'a running window is charged').to.equal(5);
    expect(await readResetAt(lengthened.token)).to.equal(toSqlUtc(later));
  });
});

describeEachBackend('spend: SpendWriter with client-chosen values', (backend) => {
  it('never lets an over-long charge id, x-request-id, end user or tag fail a batch (it would block the queue)', async () => {
    const { dataSource } = backend();
    const key = await new LiteLlmRows(dataSource).aKey();
    const long = 'x'.repeat(300);
    const event = anEvent({ keyHash: key.token, endUserId: long, tags: [long], requestId: `req-${long}`, chargeId: `req-${long}:chatcmpl-1`, cost: 0.25 });
    const writer = new SpendWriter(dataSource);
    expect(await writer.write([queued(event), queued(anEvent({ keyHash: key.token, cost: 0.25 }))])).to.equal(2);
    expect(await writer.write([queued(event)]), 'replay of the hashed id').to.equal(0);
    expect(await spendOf(dataSource, 'LiteLLM_VerificationToken', 'token', key.token)).to.equal(0.5);
  });

  it('writes a charge whose end user, tag or model holds half a surrogate pair (JSON lets a body escape one)', async () => {
    const { dataSource } = backend();
    const key = await new LiteLlmRows(dataSource).aKey();
    const event = { ...anEvent({ keyHash: key.token, endUserId: 'eu\udc00', tags: ['t\ud800'], cost: 0.25 }), model: 'gpt\ud800' };
    expect(await new SpendWriter(dataSource).write([queued(event)])).to.equal(1);
    expect(await spendOf(dataSource, 'LiteLLM_VerificationToken', 'token', key.token)).to.equal(0.25);
  });

  it("charges an id only to its own row: never to another's the collation takes it for (a trailing space)", async () => {
    const { dataSource } = backend();
    const rows = new LiteLlmRows(dataSource);
    const team = await rows.aTeam({ spend: 1 });
    const user = await rows.aUser({ spend: 1 });
    const tag = await rows.aTag({ spend: 1 });
    const endUser = uniqueId('customer');
    await new SpendWriter(dataSource).write([queued(anEvent({ endUserId: endUser, cost: 1 }))]);
    const event = anEvent({ teamId: `${team.team_id} `, userId: `${user.user_id} `, tags: [`${tag.tag_name} `], endUserId: `${endUser} `, cost: 0.25 });
    expect(await new SpendWriter(dataSource).write([queued(event)])).to.equal(1);
    expect(await spendOf(dataSource, 'LiteLLM_TeamTable', 'team_id', team.team_id)).to.equal(1);
    expect(await spendOf(dataSource, 'LiteLLM_UserTable', 'user_id', user.user_id)).to.equal(1);
    expect(await spendOf(dataSource, 'LiteLLM_TagTable', 'tag_name', tag.tag_name)).to.equal(1);
    const endUsers: { user_id: string; spend: number | string }[] = await dataSource.query('SELECT user_id, spend FROM LiteLLM_EndUserTable WHERE user_id IN (?, ?)', [endUser, `${endUser} `]);
    const spendById = new Map(endUsers.map((r) => [r.user_id, Number(r.spend)]));
    expect(spendById.get(endUser), 'the other end user untouched').to.equal(1);
    // SQLite tells the ids apart, as Postgres does: the new end user gets its own row there.
    if (backend().name === 'sqlite') expect(spendById.get(`${endUser} `)).to.equal(0.25);
    else expect(spendById.has(`${endUser} `), 'MariaDB cannot hold it apart: left to LiteLLM_SpendLogs').to.equal(false);
  });

  it('finds a replayed charge whose id held half a surrogate pair, instead of failing on its duplicate key forever', async () => {
    const { dataSource } = backend();
    const key = await new LiteLlmRows(dataSource).aKey();
    const event = anEvent({ keyHash: key.token, requestId: 'req-s', chargeId: 'req-s:chatcmpl-\udc00x', cost: 0.25 });
    const writer = new SpendWriter(dataSource);
    expect(await writer.write([queued(event)])).to.equal(1);
    expect(await writer.write([queued(event)]), 'the replay finds its row').to.equal(0);
    expect(await spendOf(dataSource, 'LiteLLM_VerificationToken', 'token', key.token)).to.equal(0.25);
  });
});
