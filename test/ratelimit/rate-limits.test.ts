import { expect } from 'chai';
import { aiGatewayRateLimit, rateLimitDenial } from '../../src/ratelimit/rate-limit-denial';
import { rateLimitsOf } from '../../src/ratelimit/rate-limits';
import { aBudget, aKey, aSnapshot, aTeam, KEY_HASH } from '../checks/fixtures';

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
