import { expect } from 'chai';
import { BANNED_REQUEST_BODY_PARAMS, requestBodySafety } from '../../src/checks/body-safety';
import { buildPolicy, type ClientsideAuthParam, type Policy } from '../../src/config/policy';
import type { Json } from '../../src/domain/entities';
import { aDeployment, decide } from './fixtures';

describe('request body safety (newer LiteLLM list, deliberately) — §2.2 step 2, §4.13', () => {
  const rejection = (param: string) =>
    `Authentication Error, Rejected Request: ${param} is not allowed in request body. Clientside passthrough requires explicit admin opt-in via either \`general_settings.allow_client_side_credentials = true\` (proxy-wide) or \`configurable_clientside_auth_params\` on the deployment in your proxy config.yaml. Relevant Issue: https://huntr.com/bounties/4001e1a2-7b7a-4776-a3ae-e6692ec3d997`;

  it('denies api_base in the body (401 auth_error)', () => {
    expect(decide(requestBodySafety, { request: { body: { model: 'gpt-4o', api_base: 'https://evil' } } })).to.deep.equal({
      status: 401,
      type: 'auth_error',
      message: rejection('api_base'),
      param: 'None',
    });
  });

  it('has no api_key bypass (the seed-era loophole)', () => {
    expect(decide(requestBodySafety, { request: { body: { api_key: 'x', base_url: 'https://evil' } } })?.message).to.equal(rejection('base_url'));
  });

  it('bans endpoint and observability params from the newer list', () => {
    for (const param of ['aws_bedrock_runtime_endpoint', 'langfuse_host', 'dd_site', 'gcs_bucket_name', 'wandb_api_key']) {
      expect(BANNED_REQUEST_BODY_PARAMS).to.include(param);
      expect(decide(requestBodySafety, { request: { body: { [param]: 'x' } } })?.message).to.equal(rejection(param));
    }
  });

  it('finds a banned param among many keys, and reports the first in LiteLLM order whatever the body order', () => {
    const many = (count: number): Record<string, Json> => Object.fromEntries(Array.from({ length: count }, (_, i) => [`field_${i}`, i]));
    for (const count of [0, 5, BANNED_REQUEST_BODY_PARAMS.length - 1, BANNED_REQUEST_BODY_PARAMS.length + 1, 500]) {
      expect(decide(requestBodySafety, { request: { body: many(count) } }), `${count} keys`).to.equal(null);
      const body = { ...many(count), langfuse_host: 'x', api_base: 'y' };
      expect(decide(requestBodySafety, { request: { body } })?.message, `${count} keys`).to.equal(rejection('api_base'));
    }
    const parsed = JSON.parse('{"__proto__": {"api_base": "x"}, "model": "gpt-4o"}') as Record<string, Json>;
    expect(decide(requestBodySafety, { request: { body: parsed } })).to.equal(null);
  });

  it('allows informational callback params', () => {
    expect(decide(requestBodySafety, { request: { body: { langfuse_prompt_version: 3, langsmith_sampling_rate: 0.1 } } })).to.equal(null);
  });

  it('checks litellm_embedding_config, metadata, litellm_metadata and JSON-string metadata', () => {
    expect(decide(requestBodySafety, { request: { body: { litellm_embedding_config: { api_base: 'x' } } } })?.type).to.equal('auth_error');
    expect(decide(requestBodySafety, { request: { body: { metadata: { langfuse_host: 'x' } } } })?.type).to.equal('auth_error');
    expect(decide(requestBodySafety, { request: { body: { litellm_metadata: '{"langfuse_host": "x"}' } } })?.type).to.equal('auth_error');
    expect(decide(requestBodySafety, { request: { body: { metadata: '{"t": NaN, "langfuse_host": "x"}' } } })?.type, "json.loads reads NaN").to.equal('auth_error');
  });

  it('allows everything with allow_client_side_credentials', () => {
    expect(decide(requestBodySafety, { request: { body: { api_base: 'x' } }, policy: { allowClientSideCredentials: true } })).to.equal(null);
  });
});

describe('per-deployment configurable_clientside_auth_params — §4.13', () => {
  const withParams = (params: ClientsideAuthParam[], modelName = 'gpt-4o') => ({
    modelList: [aDeployment({ modelName, clientsideAuthParams: params })],
  });
  const rows: ReadonlyArray<{ why: string; body: Record<string, Json>; policy: Partial<Policy>; refused: string | null }> = [
    { why: 'a string entry equal to the param allows it', body: { model: 'gpt-4o', api_base: 'http://dummy.com' }, policy: withParams(['api_base']), refused: null },
    { why: 'an {api_base: regex} entry allows a matching value', body: { model: 'gpt-4o', api_base: 'https://litellm-dev.direct.fireworks.ai/v1' }, policy: withParams([{ apiBase: '^https://litellm.*direct\\.fireworks\\.ai/v1$' }]), refused: null },
    { why: 'an {api_base: regex} entry refuses a value it does not match', body: { model: 'gpt-4o', api_base: 'https://litellm-dev.direct.fireworks.ai/v1' }, policy: withParams([{ apiBase: '^https://litellm.*novice\\.fireworks\\.ai/v1$' }]), refused: 'api_base' },
    { why: 'the regex is matched at the start only (re.match), not anywhere', body: { model: 'gpt-4o', api_base: 'https://evil/?https://api.openai.com/v1' }, policy: withParams([{ apiBase: 'https://api.openai.com' }]), refused: 'api_base' },
    { why: 'an exact-string {api_base} entry allows that value', body: { model: 'gpt-4o', api_base: 'https://api.openai.com/v1' }, policy: withParams([{ apiBase: 'https://api.openai.com/v1' }]), refused: null },
    { why: 'an {api_base} entry does not open other params', body: { model: 'gpt-4o', base_url: 'https://api.openai.com/v1' }, policy: withParams([{ apiBase: '.*' }]), refused: 'base_url' },
    { why: 'an opted-in param does not open the rest of the body', body: { model: 'gpt-4o', api_base: 'x', langfuse_host: 'y' }, policy: withParams(['api_base']), refused: 'langfuse_host' },
    { why: "another model's deployment does not count", body: { model: 'claude-3', api_base: 'x' }, policy: withParams(['api_base']), refused: 'api_base' },
    { why: 'a wildcard deployment serves the model', body: { model: 'fireworks_ai/llama', api_base: 'x' }, policy: withParams(['api_base'], 'fireworks_ai/*'), refused: null },
    { why: 'nested containers honour the same opt-in', body: { model: 'gpt-4o', metadata: { api_base: 'x' } }, policy: withParams(['api_base']), refused: null },
    { why: 'a deployment without the setting opts nothing in', body: { model: 'gpt-4o', api_base: 'x' }, policy: { modelList: [aDeployment()] }, refused: 'api_base' },
    { why: 'a body without a string model cannot opt in', body: { model: ['gpt-4o'], api_base: 'x' }, policy: withParams(['api_base']), refused: 'api_base' },
  ];
  for (const row of rows) {
    it(`${row.why}${row.refused === null ? ' (allowed)' : ` (refuses ${row.refused}, 401)`}`, () => {
      const denial = decide(requestBodySafety, { request: { body: row.body }, policy: row.policy });
      if (row.refused === null) expect(denial).to.equal(null);
      else expect(denial?.message).to.include(`Rejected Request: ${row.refused} is not allowed`);
    });
  }

  it('reads the setting from config.yaml litellm_params (strings and {api_base} objects, others dropped)', () => {
    const policy = buildPolicy({
      model_list: [
        { model_name: 'gpt-4o', litellm_params: { model: 'openai/gpt-4o', configurable_clientside_auth_params: ['api_base', { api_base: '^https://x' }, 3, { other: 1 }] } },
        { model_name: 'plain', litellm_params: { model: 'openai/gpt-4o' } },
      ],
    });
    expect(policy.modelList.map((d) => d.clientsideAuthParams)).to.deep.equal([['api_base', { apiBase: '^https://x' }], null]);
  });
});
