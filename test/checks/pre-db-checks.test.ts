import { expect } from 'chai';
import { requestSize } from '../../src/checks/request-size';
import { BANNED_REQUEST_BODY_PARAMS, requestBodySafety } from '../../src/checks/body-safety';
import { allowedIps } from '../../src/checks/allowed-ips';
import { proxyAllowedRoutes } from '../../src/checks/proxy-allowed-routes';
import { decide } from './fixtures';

describe('request size — §2.2 step 1', () => {
  it('denies a content-length above max_request_size_mb (400 bad_request_error, param content-length)', () => {
    expect(decide(requestSize, { request: { headers: { 'content-length': String(3 * 1024 * 1024) } }, policy: { maxRequestSizeMb: 2 } })).to.deep.equal({
      status: 400,
      type: 'bad_request_error',
      message: 'Request size is too large. Request size is 3.0 MB. Max size is 2 MB',
      param: 'content-length',
    });
  });

  it('allows exactly the maximum, no header, or no setting', () => {
    expect(decide(requestSize, { request: { headers: { 'content-length': String(2 * 1024 * 1024) } }, policy: { maxRequestSizeMb: 2 } })).to.equal(null);
    expect(decide(requestSize, { policy: { maxRequestSizeMb: 2 } })).to.equal(null);
    expect(decide(requestSize, { request: { headers: { 'content-length': '999999999' } } })).to.equal(null);
  });
});

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

describe('allowed_ips — §2.2 step 3', () => {
  it('denies a peer outside allowed_ips (403)', () => {
    expect(decide(allowedIps, { policy: { allowedIps: ['10.0.0.2'] } })).to.deep.equal({
      status: 403,
      type: 'auth_error',
      message: 'Access forbidden: IP address 10.0.0.1 not allowed.',
      param: 'None',
    });
  });

  it('allows a listed peer, and anyone when unset', () => {
    expect(decide(allowedIps, { policy: { allowedIps: ['10.0.0.1'] } })).to.equal(null);
    expect(decide(allowedIps)).to.equal(null);
  });

  it('admits no one with an empty list', () => {
    expect(decide(allowedIps, { policy: { allowedIps: [] } })?.status).to.equal(403);
  });

  it('compares the raw x-forwarded-for value when use_x_forwarded_for is on (no comma splitting)', () => {
    const request = { headers: { 'x-forwarded-for': '1.2.3.4, 10.0.0.1' } };
    expect(decide(allowedIps, { request, policy: { allowedIps: ['1.2.3.4'], useXForwardedFor: true } })?.message).to.equal(
      'Access forbidden: IP address 1.2.3.4, 10.0.0.1 not allowed.',
    );
    expect(decide(allowedIps, { request, policy: { allowedIps: ['1.2.3.4, 10.0.0.1'], useXForwardedFor: true } })).to.equal(null);
  });
});

describe('proxy-wide allowed_routes — §2.2 step 4', () => {
  it('denies a route not exactly listed (403)', () => {
    expect(decide(proxyAllowedRoutes, { policy: { allowedRoutes: ['/v1/chat/completions'] } })).to.deep.equal({
      status: 403,
      type: 'auth_error',
      message: 'Access forbidden: Route /chat/completions not allowed',
      param: 'None',
    });
  });

  it('allows an exactly listed route, and everything when unset', () => {
    expect(decide(proxyAllowedRoutes, { policy: { allowedRoutes: ['/chat/completions'] } })).to.equal(null);
    expect(decide(proxyAllowedRoutes)).to.equal(null);
  });
});
