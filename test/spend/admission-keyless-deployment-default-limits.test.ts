/**
 * A deployment's default_api_key_rpm_limit through the admission against the real Redis (own key
 * prefix, removed afterwards), for a JWT caller without a key: held to it in a model_per_key
 * window of its own (v3 counts every such caller in one `None:<model>` window), refused with
 * LiteLLM's 429 past it; a virtual key keeps its own window.
 */
import { expect } from 'chai';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { buildPolicy } from '../../src/config/policy';
import type { Snapshot } from '../../src/checks/types';
import type { Admission } from '../../src/spend/admission';
import { aContext, aKey, aRequest, aSnapshot, aTeam, KEY_HASH } from '../checks/fixtures';
import { expectModelPerKeyRefusal, limitingAdmitterForSuite } from '../support/spend';

describe("spend: a deployment's default per-key rpm limit for a JWT caller without a key, on Redis", function () {
  const limiting = limitingAdmitterForSuite();
  // Mid-minute, so that every call of a test falls in one bucket.
  const now = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 30_000);
  const minute = Math.floor(now.getTime() / 60_000);
  const policy = buildPolicy(
    parseLiteLlmConfig(
      [
        'model_list:',
        '  - model_name: model1',
        '    litellm_params: { model: openai/gpt-4o, default_api_key_rpm_limit: 2 }',
        '  - model_name: model2',
        '    litellm_params: { model: openai/gpt-4o-mini }',
      ].join('\n'),
      {},
    ),
  );

  const admit = (snapshot: Snapshot, model: string, keyHash: string | null): Promise<Admission> =>
    Promise.resolve(
      limiting.admitter.admit(aContext({ snapshot, keyHash, now, policy, request: aRequest({ route: '/v1/chat/completions', model, body: { model, messages: [] } }) })),
    );
  const jwtCaller = (userId: string | null, teamId: string | null = null): Snapshot =>
    aSnapshot({ key: null, jwtUserId: userId, team: teamId === null ? null : aTeam({ team_id: teamId }) });
  const kinds = async (snapshot: Snapshot, model: string, keyHash: string | null, times: number): Promise<string[]> => {
    const out: string[] = [];
    for (let i = 0; i < times; i += 1) out.push((await admit(snapshot, model, keyHash)).kind);
    return out;
  };

  it("refuses a JWT caller's third call to the model past the default (429 model_per_key), in its own window", async () => {
    const verdicts: Admission[] = [];
    for (let i = 0; i < 3; i += 1) verdicts.push(await admit(jwtCaller('alice'), 'model1', null));
    expect(verdicts.map((v) => v.kind)).to.deep.equal(['admit', 'admit', 'deny']);
    expectModelPerKeyRefusal(verdicts[2], 2);
    expect(await limiting.client.get(`${limiting.redis.prefix}rl:key:jwt-user%3Aalice:model:model1:rpm:${minute}`)).to.equal('2');
    expect(await kinds(jwtCaller('alice'), 'model2', null, 3), 'a model without a default').to.deep.equal(['admit', 'admit', 'admit']);
  });

  it("leaves another JWT caller its own allowance (LiteLLM's shared None:<model> window would refuse it)", async () => {
    expect(await kinds(jwtCaller('carol'), 'model1', null, 2)).to.deep.equal(['admit', 'admit']);
    expect(await kinds(jwtCaller('dave'), 'model1', null, 3)).to.deep.equal(['admit', 'admit', 'deny']);
  });

  it('counts a token naming no user in its team\'s window', async () => {
    expect(await kinds(jwtCaller(null, 'team-k'), 'model1', null, 3)).to.deep.equal(['admit', 'admit', 'deny']);
    expect(await limiting.client.get(`${limiting.redis.prefix}rl:key:jwt-team%3Ateam-k:model:model1:rpm:${minute}`)).to.equal('2');
    expect(await kinds(jwtCaller(null, 'team-l'), 'model1', null, 1)).to.deep.equal(['admit']);
  });

  it("leaves a virtual key unchanged: its own window, untouched by the JWT callers' calls", async () => {
    const keyHash = `${KEY_HASH}-keyless-other`;
    const key = aSnapshot({ key: aKey({ token: keyHash }) });
    expect(await kinds(jwtCaller('erin'), 'model1', null, 3)).to.deep.equal(['admit', 'admit', 'deny']);
    expect(await kinds(key, 'model1', keyHash, 3)).to.deep.equal(['admit', 'admit', 'deny']);
    expect(await limiting.client.get(`${limiting.redis.prefix}rl:key:${encodeURIComponent(keyHash)}:model:model1:rpm:${minute}`)).to.equal('2');
  });
});
