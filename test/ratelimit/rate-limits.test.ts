import type { VirtualKey } from '../../src/domain/entities';
import { expect } from 'chai';
import { aiGatewayRateLimit, rateLimitDenial } from '../../src/ratelimit/rate-limit-denial';
import { agentSessionIdOf, MAX_AGENT_ID_CHARS, MAX_SESSION_ID_CHARS, rateBucketKey, rateLimitsOf, requestAgentIdOf, throttledLimit } from '../../src/ratelimit/rate-limits';
import type { Snapshot } from '../../src/checks/types';
import { UNREAD_MODEL, type RequestFacts } from '../../src/domain/request';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { buildPolicy } from '../../src/config/policy';
import { aBudget, aKey, aMembership, anAgent, anOrg, aProject, aRequest, aSnapshot, aTeam, KEY_HASH } from '../checks/fixtures';

describe('rate limits: rpm and tpm from the rows', () => {
  const snapshot = aSnapshot({
    key: aKey({ rpm_limit: 10, tpm_limit: null, team_id: 'team-1' }),
    team: aTeam({ team_id: 'team-1', rpm_limit: null, tpm_limit: 50_000 }),
    endUser: { user_id: 'cust', alias: null, spend: 0, blocked: false, allowed_model_region: null, budget_id: 'b', budget: aBudget({ rpm_limit: 2, tpm_limit: 1_000 }) },
  });

  it('reads the key, team and end-user (budget row) limits; null is unlimited', () => {
    expect(rateLimitsOf(snapshot).map((l) => `${l.type}:${l.metric}:${l.limit}`)).to.deep.equal([
      'key:rpm:10',
      'team:tpm:50000',
      'customer:rpm:2',
      'customer:tpm:1000',
    ]);
    expect(rateLimitsOf(snapshot)[0].target).to.deep.equal({ kind: 'key', id: KEY_HASH });
  });

  it("scales only the key's own limits for a key throttled over its budget, to at least 1 (v3's api_key descriptor, budget_throttle.throttled_limit)", () => {
    const throttled = aSnapshot({
      key: aKey({ rpm_limit: 100, tpm_limit: 5, metadata: { model_rpm_limit: { 'gpt-4o': 50 } } }),
      team: aTeam({ team_id: 'team-1', rpm_limit: 40, tpm_limit: null }),
    });
    expect(rateLimitsOf(throttled, 'gpt-4o', null, 0.1).map((l) => `${l.type}:${l.metric}:${l.limit}`)).to.deep.equal([
      'key:rpm:10',
      'key:tpm:1',
      'team:rpm:40',
      'model_per_key:rpm:50',
    ]);
    expect([throttledLimit(1000, 0.1), throttledLimit(50, 0.5), throttledLimit(null, 0.1), throttledLimit(1000, null)]).to.deep.equal([100, 25, null, 1000]);
  });

  it("limits an end user without a row by the default end-user budget's rpm/tpm (spec §2.5), keyed by the id the request names", () => {
    const unknown = aSnapshot({ key: aKey(), unknownEndUser: { user_id: 'new-cust', budget: aBudget({ rpm_limit: 1, tpm_limit: null }) } });
    const limits = rateLimitsOf(unknown);
    expect(limits.map((l) => `${l.type}:${l.metric}:${l.limit}`)).to.deep.equal(['customer:rpm:1']);
    expect(limits[0].target).to.deep.equal({ kind: 'end_user', id: 'new-cust' });
  });

  it("refuses with LiteLLM's 429: its limiter message, type and param the string None, and retry-after", () => {
    const limits = rateLimitsOf(snapshot);
    const denial = rateLimitDenial('customer', limits, new Map([[limits[2], 2]]), 17);
    expect(denial).to.deep.equal({
      status: 429,
      type: 'None',
      param: 'None',
      message:
        'LiteLLM Rate Limit Handler for rate limit type = customer. Crossed TPM / RPM / Max Parallel Request Limit. ' +
        'current rpm: 2, rpm limit: 2, current tpm: 0, tpm limit: 1000, current max_parallel_requests: 0, max_parallel_requests: 9223372036854775807',
      headers: [['retry-after', '17']],
    });
  });

  it("prints an unlimited tpm's current count as the tokens its window holds (the classic limiter's docs: current tpm: 348), an unlimited rpm's as 0", () => {
    const rpmOnly = rateLimitsOf(aSnapshot({ key: aKey({ rpm_limit: 1, tpm_limit: null }) }));
    expect(rateLimitDenial('key', rpmOnly, new Map([[rpmOnly[0], 1]]), 5, 347.2).message).to.equal(
      'LiteLLM Rate Limit Handler for rate limit type = key. Crossed TPM / RPM / Max Parallel Request Limit. ' +
        'current rpm: 1, rpm limit: 1, current tpm: 348, tpm limit: 9223372036854775807, current max_parallel_requests: 0, max_parallel_requests: 9223372036854775807',
    );
    expect(rateLimitDenial('key', rpmOnly, new Map([[rpmOnly[0], 1]]), 5).message, 'no window read').to.include('current tpm: 0, tpm limit: 9223372036854775807');
    const tpmOnly = rateLimitsOf(aSnapshot({ key: aKey({ rpm_limit: null, tpm_limit: 10 }) }));
    expect(rateLimitDenial('key', tpmOnly, new Map([[tpmOnly[0], 10]]), 5, 99).message).to.include(
      'current rpm: 0, rpm limit: 9223372036854775807, current tpm: 10, tpm limit: 10,',
    );
  });

  it("words a limit of 0 as LiteLLM's limiter does when the entity has no count yet (every request is its first)", () => {
    const zero = rateLimitsOf(aSnapshot({ key: aKey({ rpm_limit: 0, tpm_limit: null }) }));
    expect(rateLimitDenial('key', zero, new Map([[zero[0], 0]]), 5).message).to.equal(
      'Max parallel request limit reached Crossed TPM / RPM / Max Parallel Request Limit. Hit limit for key. ' +
        'Current limits: max_parallel_requests: 9223372036854775807, tpm_limit: 9223372036854775807, rpm_limit: 0',
    );
  });

  it("emits the tightest token limit as Envoy AI Gateway's N/UNIT", () => {
    expect(aiGatewayRateLimit(rateLimitsOf(snapshot))).to.equal('1000/MINUTE');
    expect(aiGatewayRateLimit([])).to.equal(null);
  });
});

describe('rate limits: per model, team member and organization (LiteLLM v3 limiter descriptors)', () => {
  const show = (snapshot: Partial<Snapshot>, model: RequestFacts['model'] = 'gpt-4o'): string[] =>
    rateLimitsOf(aSnapshot(snapshot), model).map((l) => `${l.type}:${l.metric}:${l.limit}${l.model === null || l.model === undefined ? '' : `@${l.model}`}`);
  const team = (metadata: Record<string, { [model: string]: number }>) => aTeam({ team_id: 'team-1', metadata });

  const cases: Array<{ name: string; snapshot: Partial<Snapshot>; model?: RequestFacts['model']; expected: string[] }> = [
    {
      name: "limits the key per model by its metadata.model_rpm_limit / model_tpm_limit entry for the requested model",
      snapshot: { key: aKey({ metadata: { model_rpm_limit: { 'gpt-4o': 2, 'gpt-4o-mini': 9 }, model_tpm_limit: { 'gpt-4o': 100 } } }) },
      expected: ['model_per_key:rpm:2@gpt-4o', 'model_per_key:tpm:100@gpt-4o'],
    },
    {
      name: 'sets no per-model limit for a model the map does not name (matched by exact name, not model group)',
      snapshot: { key: aKey({ metadata: { model_rpm_limit: { 'gpt-4o': 2 } } }) },
      model: 'GPT-4O',
      expected: [],
    },
    {
      name: 'sets no per-model limit when the request names no model',
      snapshot: { key: aKey({ metadata: { model_rpm_limit: { 'gpt-4o': 2 } } }) },
      model: null,
      expected: [],
    },
    {
      name: 'limits each model of a request naming several (a comma-joined model LiteLLM fans out), not none as v3 does',
      snapshot: {
        key: aKey({ team_id: 'team-1', metadata: { model_rpm_limit: { 'gpt-4o': 2, 'gpt-4o-mini': 9 } } }),
        team: team({ model_tpm_limit: { 'gpt-4o-mini': 70 } }),
      },
      model: ['gpt-4o-mini', 'o3', 'gpt-4o'],
      // The key has no tpm map of its own: its tpm falls back to the team's, as LiteLLM reads it per metric.
      expected: ['model_per_key:rpm:9@gpt-4o-mini', 'model_per_key:tpm:70@gpt-4o-mini', 'model_per_key:rpm:2@gpt-4o', 'model_per_team:tpm:70@gpt-4o-mini'],
    },
    {
      name: 'limits a request whose body was cut before its model by every per-model limit that applies to the caller',
      snapshot: {
        key: aKey({ team_id: 'team-1', metadata: { model_rpm_limit: { 'gpt-4o': 2 }, model_tpm_limit: { o3: 100 } } }),
        team: team({ model_rpm_limit: { 'gpt-4o': 5 } }),
        organization: anOrg({ metadata: { model_rpm_limit: { 'gpt-4o-mini': 7 } } }),
      },
      model: UNREAD_MODEL,
      expected: ['model_per_key:rpm:2@gpt-4o', 'model_per_key:tpm:100@o3', 'model_per_team:rpm:5@gpt-4o', 'model_per_organization:rpm:7@gpt-4o-mini'],
    },
    {
      name: "falls back to the rpm_limit / tpm_limit of the key's model_max_budget entry when its metadata sets none",
      snapshot: { key: aKey({ model_max_budget: { 'gpt-4o': { max_budget: 1, rpm_limit: 3, tpm_limit: 30 } } }) },
      expected: ['model_per_key:rpm:3@gpt-4o', 'model_per_key:tpm:30@gpt-4o'],
    },
    {
      name: 'picks the source per metric: rpm from metadata, tpm from model_max_budget',
      snapshot: { key: aKey({ metadata: { model_rpm_limit: { 'gpt-4o': 2 } }, model_max_budget: { 'gpt-4o': { rpm_limit: 3, tpm_limit: 30 } } }) },
      expected: ['model_per_key:rpm:2@gpt-4o', 'model_per_key:tpm:30@gpt-4o'],
    },
    {
      name: "skips an empty metadata map as LiteLLM's `if result:` does",
      snapshot: { key: aKey({ metadata: { model_rpm_limit: {} }, model_max_budget: { 'gpt-4o': { rpm_limit: 3 } } }) },
      expected: ['model_per_key:rpm:3@gpt-4o'],
    },
    {
      name: "limits the key per model by the team's metadata when the key has none, and the team per model (counted once)",
      snapshot: { key: aKey({ team_id: 'team-1' }), team: team({ model_rpm_limit: { 'gpt-4o': 5 } }) },
      expected: ['model_per_key:rpm:5@gpt-4o', 'model_per_team:rpm:5@gpt-4o'],
    },
    {
      name: "lets a key's own map hide the team's from the key descriptor only",
      snapshot: { key: aKey({ team_id: 'team-1', metadata: { model_rpm_limit: { 'gpt-4o-mini': 1 } } }), team: team({ model_rpm_limit: { 'gpt-4o': 5 } }) },
      expected: ['model_per_team:rpm:5@gpt-4o'],
    },
    {
      name: 'truncates a fractional limit (int()); a null or text one is no limit',
      snapshot: { key: aKey({ metadata: { model_rpm_limit: { 'gpt-4o': 2.9 }, model_tpm_limit: { 'gpt-4o': '100' } } }) },
      expected: ['model_per_key:rpm:2@gpt-4o'],
    },
    {
      name: "limits the team member by the membership's budget row",
      snapshot: { key: aKey({ team_id: 'team-1', user_id: 'user-1' }), team: aTeam({ team_id: 'team-1' }), membership: aMembership({ budget: aBudget({ rpm_limit: 4, tpm_limit: null }) }) },
      expected: ['team_member:rpm:4'],
    },
    {
      name: "limits the organization by its budget row, and per model by its metadata",
      snapshot: { key: aKey(), organization: anOrg({ budget: aBudget({ rpm_limit: 50, tpm_limit: 5000 }), metadata: { model_tpm_limit: { 'gpt-4o': 700 } } }) },
      expected: ['organization:rpm:50', 'organization:tpm:5000', 'model_per_organization:tpm:700@gpt-4o'],
    },
    {
      name: "limits the project per model by its metadata",
      snapshot: { key: aKey(), project: aProject({ metadata: { model_rpm_limit: { 'gpt-4o': 8 } } }) },
      expected: ['model_per_project:rpm:8@gpt-4o'],
    },
    {
      name: "lists them all in the v3 limiter's order: key, team, team member, end user, per model (key, team, project), organization",
      snapshot: {
        key: aKey({ team_id: 'team-1', rpm_limit: 10, metadata: { model_rpm_limit: { 'gpt-4o': 2 } } }),
        team: aTeam({ team_id: 'team-1', rpm_limit: 20, metadata: { model_rpm_limit: { 'gpt-4o': 6 } } }),
        membership: aMembership({ budget: aBudget({ rpm_limit: 4 }) }),
        endUser: { user_id: 'cust', alias: null, spend: 0, blocked: false, allowed_model_region: null, budget_id: 'b', budget: aBudget({ rpm_limit: 3 }) },
        project: aProject({ metadata: { model_rpm_limit: { 'gpt-4o': 8 } } }),
        organization: anOrg({ budget: aBudget({ rpm_limit: 50 }), metadata: { model_rpm_limit: { 'gpt-4o': 9 } } }),
      },
      expected: [
        'key:rpm:10',
        'team:rpm:20',
        'team_member:rpm:4',
        'customer:rpm:3',
        'model_per_key:rpm:2@gpt-4o',
        'model_per_team:rpm:6@gpt-4o',
        'model_per_project:rpm:8@gpt-4o',
        'organization:rpm:50',
        'model_per_organization:rpm:9@gpt-4o',
      ],
    },
  ];
  for (const { name, snapshot, model, expected } of cases) {
    it(name, () => expect(show(snapshot, model === undefined ? 'gpt-4o' : model)).to.deep.equal(expected));
  }

  it('counts a per-model limit in its own window, apart from the entity\'s overall one and from other models', () => {
    const target = { kind: 'key' as const, id: 'h' };
    const overall = rateBucketKey('p:', target, 'rpm', 7);
    const perModel = rateBucketKey('p:', target, 'rpm', 7, 'gpt-4o');
    expect(perModel).to.equal('p:rl:key:h:model:gpt-4o:rpm:7');
    expect(new Set([overall, perModel, rateBucketKey('p:', target, 'rpm', 7, 'gpt-4o-mini')]).size).to.equal(3);
  });

  it("names the crossed per-model descriptor in the 429, in the classic limiter's words", () => {
    const limits = rateLimitsOf(aSnapshot({ key: aKey({ metadata: { model_rpm_limit: { 'gpt-4o': 2 } } }) }), 'gpt-4o');
    expect(rateLimitDenial('model_per_key', limits, new Map([[limits[0], 2]]), 9).message).to.equal(
      'LiteLLM Rate Limit Handler for rate limit type = model_per_key. Crossed TPM / RPM / Max Parallel Request Limit. ' +
        'current rpm: 2, rpm limit: 2, current tpm: 0, tpm limit: 9223372036854775807, current max_parallel_requests: 0, max_parallel_requests: 9223372036854775807',
    );
  });
});

describe('rate limits: agents and agent sessions (LiteLLM v3 `agent`, `agent_session` descriptors)', () => {
  const agentKey = (overrides: Parameters<typeof aKey>[0] = {}) => aKey({ agent_id: 'agent-1', ...overrides });
  const limitedAgent = anAgent({ rpm_limit: 5, tpm_limit: 1_000, session_rpm_limit: 2, session_tpm_limit: 100 });
  const show = (snapshot: Partial<Snapshot>, headers: Record<string, string> = {}, body: RequestFacts['body'] = { model: 'gpt-4o' }, model: RequestFacts['model'] = 'gpt-4o'): string[] =>
    rateLimitsOf(aSnapshot(snapshot), model, aRequest({ headers, body })).map((l) => `${l.type}:${l.metric}:${l.limit}${l.model === null || l.model === undefined ? '' : `@${l.model}`}`);

  it("limits the key's agent by its rpm_limit / tpm_limit over all sessions, and the session the trace-id header names by session_rpm_limit / session_tpm_limit", () => {
    const snapshot = { key: agentKey(), agent: limitedAgent };
    expect(show(snapshot, { 'x-litellm-trace-id': 'trace-1' })).to.deep.equal(['agent:rpm:5', 'agent:tpm:1000', 'agent_session:rpm:2', 'agent_session:tpm:100']);
    const limits = rateLimitsOf(aSnapshot(snapshot), 'gpt-4o', aRequest({ headers: { 'x-litellm-trace-id': 'trace-1' } }));
    expect(limits[0].target).to.deep.equal({ kind: 'agent', id: 'agent-1' });
    expect(limits[2].target).to.deep.equal({ kind: 'agent_session', id: 'agent-1', sessionId: 'trace-1' });
  });

  it('applies only the agent-wide limits to a request that names no session (v3 builds no agent_session descriptor then)', () => {
    expect(show({ key: agentKey(), agent: limitedAgent })).to.deep.equal(['agent:rpm:5', 'agent:tpm:1000']);
  });

  it('builds a session descriptor alone for an agent that limits sessions only', () => {
    expect(show({ key: agentKey(), agent: anAgent({ session_rpm_limit: 1 }) }, { 'x-litellm-session-id': 's' })).to.deep.equal(['agent_session:rpm:1']);
  });

  it("places the agent after the key's and team's per-model limits and before the project's and the organization's, as v3 orders them", () => {
    const snapshot: Partial<Snapshot> = {
      key: agentKey({ rpm_limit: 1, team_id: 'team-1', project_id: 'p-1', metadata: { model_rpm_limit: { 'gpt-4o': 2 } } }),
      team: aTeam({ team_id: 'team-1', metadata: { model_rpm_limit: { 'gpt-4o': 3 } } }),
      project: aProject({ project_id: 'p-1', metadata: { model_rpm_limit: { 'gpt-4o': 4 } } }),
      organization: anOrg({ organization_id: 'org-1', budget: aBudget({ rpm_limit: 6 }) }),
      agent: anAgent({ rpm_limit: 7, session_rpm_limit: 8 }),
    };
    expect(show(snapshot, { 'x-litellm-trace-id': 't' })).to.deep.equal([
      'key:rpm:1',
      'model_per_key:rpm:2@gpt-4o',
      'model_per_team:rpm:3@gpt-4o',
      'agent:rpm:7',
      'agent_session:rpm:8',
      'model_per_project:rpm:4@gpt-4o',
      'organization:rpm:6',
    ]);
    expect(show(snapshot, { 'x-litellm-trace-id': 't' }, {}, null), 'no model: the agent limits still apply').to.deep.equal(['key:rpm:1', 'agent:rpm:7', 'agent_session:rpm:8', 'organization:rpm:6']);
  });

  it('changes nothing for a key without an agent, an agent without limits, or an agent row cached before the limits were read', () => {
    expect(show({ key: aKey(), agent: limitedAgent }, { 'x-litellm-trace-id': 't' }), 'no agent on the key').to.deep.equal([]);
    expect(show({ key: agentKey(), agent: anAgent() }, { 'x-litellm-trace-id': 't' }), 'no limits').to.deep.equal([]);
    expect(show({ key: agentKey(), agent: null }, { 'x-litellm-trace-id': 't' }), 'unknown agent').to.deep.equal([]);
    expect(show({ key: agentKey({ agent_id: 'agent-2' }), agent: limitedAgent }), 'another agent').to.deep.equal([]);
    const { rpm_limit: _r, tpm_limit: _t, session_rpm_limit: _sr, session_tpm_limit: _st, ...older } = limitedAgent;
    expect(show({ key: agentKey(), agent: older }, { 'x-litellm-trace-id': 't' }), 'an earlier version\'s cached row').to.deep.equal([]);
  });

  it('reads a limit of 0 as admitting nothing, as for every other entity', () => {
    expect(show({ key: agentKey(), agent: anAgent({ rpm_limit: 0 }) })).to.deep.equal(['agent:rpm:0']);
  });

  const session = (headers: Record<string, string>, body: RequestFacts['body']): string | null => agentSessionIdOf(aRequest({ headers, body }));
  const sessionCases: Array<{ name: string; headers?: Record<string, string>; body: RequestFacts['body']; expected: string | null }> = [
    { name: 'x-litellm-trace-id, which the proxy copies to litellm_session_id', headers: { 'x-litellm-trace-id': 'h' }, body: { litellm_session_id: 'b' }, expected: 'h' },
    { name: 'x-litellm-session-id', headers: { 'x-litellm-session-id': 'h2' }, body: {}, expected: 'h2' },
    { name: "a vendor session header with an id-like value (get_chain_id_from_headers)", headers: { 'x-claude-code-session-id': 'abcdef12' }, body: {}, expected: 'abcdef12' },
    { name: "the body's litellm_session_id over its metadata.session_id", body: { litellm_session_id: 'top', metadata: { session_id: 'meta' } }, expected: 'top' },
    { name: "metadata.session_id over litellm_metadata.session_id", body: { metadata: { session_id: 'meta' }, litellm_metadata: { session_id: 'lm' } }, expected: 'meta' },
    { name: 'litellm_metadata.session_id last', body: { metadata: {}, litellm_metadata: { session_id: 'lm' } }, expected: 'lm' },
    { name: 'metadata sent as a JSON string (multipart), parsed as the proxy parses it', body: { metadata: '{"session_id": "s"}' }, expected: 's' },
    { name: 'a number through str()', body: { litellm_session_id: 42 }, expected: '42' },
    { name: 'a falsy value skipped for the next source', body: { litellm_session_id: '', metadata: { session_id: 0 }, litellm_metadata: { session_id: 'lm' } }, expected: 'lm' },
    { name: 'none: no session', body: { metadata: { user_id: 'u' } }, expected: null },
    { name: 'no body: no session', body: null, expected: null },
  ];
  for (const { name, headers, body, expected } of sessionCases) {
    it(`finds the agent session in ${name}`, () => expect(session(headers ?? {}, body)).to.equal(expected));
  }

  describe('a session id the caller chooses', () => {
    const bucketOf = (sessionId: string): string => rateBucketKey('p:', { kind: 'agent_session', id: 'agent-1', sessionId }, 'tpm', 7);

    it('names a session id of an 8 KiB header, or of a 1 MiB body field beyond ASCII, by its SHA-256: the key stays short and each id keeps its own window', () => {
      const header = 'a'.repeat(8 * 1024);
      const fromHeader = session({ 'x-litellm-trace-id': header }, {});
      expect(fromHeader).to.match(/^sha256:[0-9a-f]{64}$/);
      expect(session({ 'x-litellm-trace-id': header }, {}), 'the same id: the same window').to.equal(fromHeader);
      expect(session({ 'x-litellm-trace-id': `${header.slice(1)}b` }, {}), 'another id: another window').to.not.equal(fromHeader);
      const body = 'é'.repeat(512 * 1024);
      const fromBody = session({}, { metadata: { session_id: body } });
      expect(fromBody).to.match(/^sha256:[0-9a-f]{64}$/);
      for (const id of [fromHeader, fromBody]) expect(bucketOf(id ?? '').length).to.be.below(200);
    });

    it('keeps an id of up to MAX_SESSION_ID_CHARS as it is; a longer one, even one written like a digest, cannot name a kept id\'s window', () => {
      const longest = 'x'.repeat(MAX_SESSION_ID_CHARS);
      expect(session({ 'x-litellm-session-id': longest }, {})).to.equal(longest);
      expect(session({ 'x-litellm-session-id': `${longest}y` }, {})).to.match(/^sha256:/);
      const digestLike = session({ 'x-litellm-session-id': `${longest}y` }, {}) ?? '';
      expect(digestLike.length).to.be.above(MAX_SESSION_ID_CHARS);
      expect(session({ 'x-litellm-session-id': digestLike }, {}), 'sent as an id, a digest is hashed again').to.not.equal(digestLike);
    });

    it('hashes a long id after str(): a long list or object through Python\'s str()', () => {
      const list = Array.from({ length: 100 }, (_, i) => i);
      const expected = session({}, { litellm_session_id: `[${list.join(', ')}]` });
      expect(expected).to.match(/^sha256:/);
      expect(session({}, { litellm_session_id: list })).to.equal(expected);
    });

    it('makes half a surrogate pair U+FFFD, so the metadata naming the session is valid UTF-8', () => {
      expect(session({}, { litellm_session_id: 'run\ud800' })).to.equal('run\ufffd');
      expect(session({}, { metadata: { session_id: '\udc00x' } })).to.equal('\ufffdx');
    });

    it("reads the body as sent: a query parameter (in the auth checks' body only) names no session", () => {
      const withQuery = aRequest({ body: { model: 'gpt-4o', litellm_session_id: 'from-query' }, sentBody: { model: 'gpt-4o' } });
      expect(agentSessionIdOf(withQuery)).to.equal(null);
      expect(agentSessionIdOf(aRequest({ body: { litellm_session_id: 'q' }, sentBody: { litellm_session_id: 'sent' } }))).to.equal('sent');
    });
  });

  it('keeps every (agent, session) pair in its own window, whatever the ids hold', () => {
    const a = rateBucketKey('p:', { kind: 'agent_session', id: 'a:b', sessionId: 'c' }, 'rpm', 7);
    const b = rateBucketKey('p:', { kind: 'agent_session', id: 'a', sessionId: 'b:c' }, 'rpm', 7);
    expect(a).to.equal('p:rl:agent_session:a%3Ab:c:rpm:7');
    expect(a).to.not.equal(b);
    expect(rateBucketKey('p:', { kind: 'agent', id: 'a' }, 'tpm', 7)).to.equal('p:rl:agent:a:tpm:7');
  });

  it("names the crossed agent descriptor in the 429, in the classic limiter's words", () => {
    const limits = rateLimitsOf(aSnapshot({ key: agentKey(), agent: anAgent({ session_rpm_limit: 2 }) }), 'gpt-4o', aRequest({ headers: { 'x-litellm-trace-id': 't' } }));
    expect(rateLimitDenial('agent_session', limits, new Map([[limits[0], 2]]), 9).message).to.equal(
      'LiteLLM Rate Limit Handler for rate limit type = agent_session. Crossed TPM / RPM / Max Parallel Request Limit. ' +
        'current rpm: 2, rpm limit: 2, current tpm: 0, tpm limit: 9223372036854775807, current max_parallel_requests: 0, max_parallel_requests: 9223372036854775807',
    );
  });
});

describe('rate limits: the agent a request names (v3 `metadata.agent_id` when the key has none)', () => {
  type Named = { readonly route?: string; readonly headers?: Record<string, string>; readonly body?: RequestFacts['body']; readonly sentBody?: RequestFacts['body'] };
  const named = ({ route = '/v1/chat/completions', headers = {}, body = { model: 'gpt-4o' }, sentBody }: Named): string | null =>
    requestAgentIdOf(aRequest({ route, headers, body, ...(sentBody === undefined ? {} : { sentBody }) }));
  const header = { 'x-litellm-agent-id': 'agent-h' };

  const rows: ReadonlyArray<readonly [string, Named, string | null]> = [
    ['the x-litellm-agent-id header', { headers: header }, 'agent-h'],
    ["the body's metadata.agent_id", { body: { metadata: { agent_id: 'agent-b' } } }, 'agent-b'],
    ['metadata sent as a JSON string (multipart), as the proxy parses it', { body: { metadata: '{"agent_id": "agent-s"}' } }, 'agent-s'],
    ["the header over the body's metadata (written into the metadata dict)", { headers: header, body: { metadata: { agent_id: 'agent-b' } } }, 'agent-h'],
    ['the header when the body sends metadata null (the proxy makes it a dict)', { headers: header, body: { metadata: null } }, 'agent-h'],
    ["the body's JSON-string metadata over the header, which LiteLLM writes only into a dict", { headers: header, body: { metadata: '{"agent_id": "agent-s"}' } }, 'agent-s'],
    ['litellm_metadata.agent_id, merged in when the metadata has no agent_id', { body: { metadata: {}, litellm_metadata: { agent_id: 'agent-l' } } }, 'agent-l'],
    ['no agent when the metadata holds agent_id null (the merge keeps it)', { body: { metadata: { agent_id: null }, litellm_metadata: { agent_id: 'agent-l' } } }, null],
    ['an empty header, which does not count', { headers: { 'x-litellm-agent-id': '' }, body: { metadata: { agent_id: 'agent-b' } } }, 'agent-b'],
    ['no agent for a number (no registry id equals it)', { body: { metadata: { agent_id: 7 } } }, null],
    ['no agent for an empty id', { body: { metadata: { agent_id: '' } } }, null],
    ['no agent when the request names none', {}, null],
    ['only metadata.agent_id on /v1/messages (litellm_metadata route: the header goes there, unread)', { route: '/v1/messages', headers: header, body: { metadata: { agent_id: 'agent-b' } } }, 'agent-b'],
    ['no agent from the header alone on /v1/responses', { route: '/v1/responses', headers: header }, null],
    ['no agent from litellm_metadata on /v1/batches', { route: '/v1/batches', body: { litellm_metadata: { agent_id: 'agent-l' } } }, null],
    ['only metadata.agent_id on a bedrock pass-through route (LITELLM_METADATA_ROUTES holds bedrock)', { route: '/bedrock/model/m/converse', headers: header, body: { metadata: { agent_id: 'agent-b' } } }, 'agent-b'],
    ['no agent from the header alone on an assistants route', { route: '/v1/threads/t/runs', headers: header }, null],
    ['the body as sent, not the path parameters merged into it', { body: { metadata: { agent_id: 'agent-q' } }, sentBody: { model: 'gpt-4o' } }, null],
  ];
  for (const [name, request, expected] of rows) it(`reads ${name}`, () => expect(named(request)).to.equal(expected));

  it(`looks up no id a row cannot hold: over ${MAX_AGENT_ID_CHARS} code points, or with half a surrogate pair`, () => {
    const longest = 'a'.repeat(MAX_AGENT_ID_CHARS);
    expect(named({ headers: { 'x-litellm-agent-id': longest } })).to.equal(longest);
    expect(named({ headers: { 'x-litellm-agent-id': `${longest}a` } })).to.equal(null);
    const astral = '😀'.repeat(MAX_AGENT_ID_CHARS);
    expect(named({ body: { metadata: { agent_id: astral } } }), '255 code points in 510 UTF-16 units').to.equal(astral);
    expect(named({ body: { metadata: { agent_id: `${astral}a` } } })).to.equal(null);
    expect(named({ body: { metadata: { agent_id: 'x'.repeat(1024 * 1024) } } })).to.equal(null);
    expect(named({ body: { metadata: { agent_id: 'agent\ud800' } } })).to.equal(null);
  });

  const limitedAgent = anAgent({ agent_id: 'agent-h', rpm_limit: 5, session_rpm_limit: 2 });
  const show = (snapshot: Partial<Snapshot>, request: Named): string[] =>
    rateLimitsOf(aSnapshot(snapshot), 'gpt-4o', aRequest({ route: request.route ?? '/v1/chat/completions', headers: request.headers ?? {}, body: request.body ?? { model: 'gpt-4o' } })).map(
      (l) => `${l.type}:${l.metric}:${l.limit}:${l.target.id}`,
    );

  it("limits a key without an agent by the agent its request names, as the key's own agent (and that agent's session)", () => {
    expect(show({ key: aKey(), agent: limitedAgent }, { headers: { ...header, 'x-litellm-trace-id': 't' } })).to.deep.equal(['agent:rpm:5:agent-h', 'agent_session:rpm:2:agent-h']);
    expect(show({ key: aKey(), agent: limitedAgent }, { body: { metadata: { agent_id: 'agent-h' } } })).to.deep.equal(['agent:rpm:5:agent-h']);
  });

  it("keeps the key's agent over the one the request names, and applies no agent the request does not name", () => {
    expect(show({ key: aKey({ agent_id: 'agent-k' }), agent: limitedAgent }, { headers: header }), "the key's agent wins").to.deep.equal([]);
    expect(show({ key: aKey({ agent_id: 'agent-k' }), agent: anAgent({ agent_id: 'agent-k', rpm_limit: 1 }) }, { headers: header })).to.deep.equal(['agent:rpm:1:agent-k']);
    expect(show({ key: aKey(), agent: limitedAgent }, { headers: { 'x-litellm-agent-id': 'agent-other' } }), 'another agent named').to.deep.equal([]);
    expect(show({ key: aKey(), agent: limitedAgent }, { route: '/v1/responses', headers: header }), 'header unread on /v1/responses').to.deep.equal([]);
  });
});

describe('rate limits: per-model limits of a model called through an alias', () => {
  const policy = buildPolicy(
    parseLiteLlmConfig(
      [
        'model_list:',
        '  - model_name: gpt-4o',
        '    litellm_params: { model: openai/gpt-4o, default_api_key_rpm_limit: 3, default_api_key_tpm_limit: 300 }',
        '  - model_name: o3',
        '    litellm_params: { model: openai/o3 }',
        'litellm_settings:',
        '  model_alias_map: { gpt4: gpt-4o }',
      ].join('\n'),
      {},
    ),
  );
  const show = (snapshot: Snapshot, model: RequestFacts['model']): string[] =>
    rateLimitsOf(snapshot, model, null, null, policy).map((l) => `${l.type}:${l.metric}:${l.limit}@${l.model ?? ''}:${l.target.id}`);

  it("holds a model_alias_map alias to its target's key rpm and tpm limits, in its target's window (v3 reads data[\"model\"] after the map)", () => {
    const key = aKey({ metadata: { model_rpm_limit: { 'gpt-4o': 10 }, model_tpm_limit: { 'gpt-4o': 1000 } } });
    expect(show(aSnapshot({ key }), 'gpt4')).to.deep.equal([`model_per_key:rpm:10@gpt-4o:${KEY_HASH}`, `model_per_key:tpm:1000@gpt-4o:${KEY_HASH}`]);
    expect(show(aSnapshot({ key }), 'gpt-4o'), 'the target itself, unchanged').to.deep.equal([`model_per_key:rpm:10@gpt-4o:${KEY_HASH}`, `model_per_key:tpm:1000@gpt-4o:${KEY_HASH}`]);
    expect(show(aSnapshot({ key }), 'o3'), 'a model without alias or limit').to.deep.equal([]);
  });

  it("holds a key's own alias (LiteLLM_VerificationToken.aliases) and its team's model alias to the target's limits", () => {
    const ownAlias: VirtualKey = { ...aKey({ metadata: { model_rpm_limit: { 'gpt-4o': 10 } } }), aliases: { mine: 'gpt-4o' } };
    // tpm: none of the key's sources names one, so the target's deployments' default applies.
    expect(show(aSnapshot({ key: ownAlias }), 'mine')).to.deep.equal([`model_per_key:rpm:10@gpt-4o:${KEY_HASH}`, `model_per_key:tpm:300@gpt-4o:${KEY_HASH}`]);
    const teamKey = aKey({ team_id: 'team-1' });
    const team = aTeam({ team_id: 'team-1', model_aliases: { fast: 'gpt-4o' }, metadata: { model_rpm_limit: { 'gpt-4o': 4 } } });
    // The team's metadata.model_rpm_limit is the key's third source and the team's own descriptor.
    expect(show(aSnapshot({ key: teamKey, team }), 'fast')).to.deep.equal([
      `model_per_key:rpm:4@gpt-4o:${KEY_HASH}`,
      `model_per_key:tpm:300@gpt-4o:${KEY_HASH}`,
      'model_per_team:rpm:4@gpt-4o:team-1',
    ]);
  });

  it("holds an alias to its target's project and organization per-model limits", () => {
    const project = aProject({ project_id: 'proj-1', metadata: { model_rpm_limit: { 'gpt-4o': 8 } } });
    const organization = anOrg({ organization_id: 'org-1', metadata: { model_tpm_limit: { 'gpt-4o': 700 } } });
    const snapshot = aSnapshot({ key: aKey({ metadata: { model_rpm_limit: {} } }), project, organization });
    expect(show(snapshot, 'gpt4').filter((l) => !l.startsWith('model_per_key'))).to.deep.equal(['model_per_project:rpm:8@gpt-4o:proj-1', 'model_per_organization:tpm:700@gpt-4o:org-1']);
  });

  it("holds an alias to its target's deployments' default per-key limits (get_key_model_rpm_limit(model_name=data[\"model\"]))", () => {
    expect(show(aSnapshot({ key: aKey() }), 'gpt4')).to.deep.equal([`model_per_key:rpm:3@gpt-4o:${KEY_HASH}`, `model_per_key:tpm:300@gpt-4o:${KEY_HASH}`]);
    expect(show(aSnapshot({ key: aKey() }), 'o3'), 'a model whose deployments set none').to.deep.equal([]);
  });
});
