import { expect } from 'chai';
import { aiGatewayRateLimit, rateLimitDenial } from '../../src/ratelimit/rate-limit-denial';
import { rateBucketKey, rateLimitsOf } from '../../src/ratelimit/rate-limits';
import type { Snapshot } from '../../src/checks/types';
import { UNREAD_MODEL, type RequestFacts } from '../../src/domain/request';
import { aBudget, aKey, aMembership, anOrg, aProject, aSnapshot, aTeam, KEY_HASH } from '../checks/fixtures';

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
