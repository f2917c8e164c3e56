import { expect } from 'chai';
import { BANNED_REQUEST_BODY_PARAMS, requestBodySafety } from '../../src/checks/body-safety';
import { decide } from './fixtures';

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

  it('allows informational callback params', () => {
    expect(decide(requestBodySafety, { request: { body: { langfuse_prompt_version: 3, langsmith_sampling_rate: 0.1 } } })).to.equal(null);
  });

  it('checks litellm_embedding_config, metadata, litellm_metadata and JSON-string metadata', () => {
    expect(decide(requestBodySafety, { request: { body: { litellm_embedding_config: { api_base: 'x' } } } })?.type).to.equal('auth_error');
    expect(decide(requestBodySafety, { request: { body: { metadata: { langfuse_host: 'x' } } } })?.type).to.equal('auth_error');
    expect(decide(requestBodySafety, { request: { body: { litellm_metadata: '{"langfuse_host": "x"}' } } })?.type).to.equal('auth_error');
  });

  it('allows everything with allow_client_side_credentials', () => {
    expect(decide(requestBodySafety, { request: { body: { api_base: 'x' } }, policy: { allowClientSideCredentials: true } })).to.equal(null);
  });
});
