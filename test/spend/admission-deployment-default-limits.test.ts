/**
 * A deployment's default_api_key_rpm_limit through the admission against the real Redis (own key
 * prefix, removed afterwards): each key without per-model limits of its own is held to it in its
 * model_per_key window, refused with LiteLLM's 429 past it.
 */
import { expect } from 'chai';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { buildPolicy } from '../../src/config/policy';
import type { Snapshot } from '../../src/checks/types';
import type { Admission } from '../../src/spend/admission';
import { aContext, aKey, aRequest, aSnapshot, KEY_HASH } from '../checks/fixtures';
import { expectModelPerKeyRefusal, limitingAdmitterForSuite } from '../support/spend';

describe("spend: a deployment's default per-key rpm limit on Redis", function () {
  const limiting = limitingAdmitterForSuite();
  // Mid-minute, so that every call of a test falls in one bucket.
  const now = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 30_000);
  const policy = buildPolicy(
    parseLiteLlmConfig(
      [
        'model_list:',
        '  - model_name: model1',
        '    litellm_params: { model: openai/gpt-4o, default_api_key_rpm_limit: 5 }',
        '  - model_name: model1',
        '    litellm_params: { model: azure/gpt-4o, default_api_key_rpm_limit: 2 }',
        '  - model_name: model2',
        '    litellm_params: { model: openai/gpt-4o-mini }',
      ].join('\n'),
      {},
    ),
  );

  const admit = (snapshot: Snapshot, model: string, keyHash: string): Promise<Admission> =>
    Promise.resolve(
      limiting.admitter.admit(aContext({ snapshot, keyHash, now, policy, request: aRequest({ route: '/v1/chat/completions', model, body: { model, messages: [] } }) })),
    );
  const keyOf = (keyHash: string, metadata = {}): Snapshot => aSnapshot({ key: aKey({ token: keyHash, metadata }) });

  it("refuses a key's third call to the model past its deployments' smallest default (429 model_per_key), while another key and another model still pass", async () => {
    const keyHash = `${KEY_HASH}-default`;
    const verdicts = [];
    for (let i = 0; i < 3; i += 1) verdicts.push(await admit(keyOf(keyHash), 'model1', keyHash));
    expect(verdicts.map((v) => v.kind)).to.deep.equal(['admit', 'admit', 'deny']);
    expectModelPerKeyRefusal(verdicts[2], 2);
    const minute = Math.floor(now.getTime() / 60_000);
    expect(await limiting.client.get(`${limiting.redis.prefix}rl:key:${encodeURIComponent(keyHash)}:model:model1:rpm:${minute}`)).to.equal('2');

    const otherKey = `${KEY_HASH}-default-other`;
    expect((await admit(keyOf(otherKey), 'model1', otherKey)).kind, 'each key has its own allowance').to.equal('admit');
    expect((await admit(keyOf(keyHash), 'model2', keyHash)).kind, 'a model without a default').to.equal('admit');
  });

  it("holds a key with its own metadata.model_rpm_limit to that instead", async () => {
    const keyHash = `${KEY_HASH}-own`;
    const snapshot = keyOf(keyHash, { model_rpm_limit: { model1: 4 } });
    const verdicts = [];
    for (let i = 0; i < 5; i += 1) verdicts.push(await admit(snapshot, 'model1', keyHash));
    expect(verdicts.map((v) => v.kind)).to.deep.equal(['admit', 'admit', 'admit', 'admit', 'deny']);
  });
});
