/**
 * End to end: a browser's CORS preflight through the real server. LiteLLM's CORS middleware
 * answers it before any auth, so Tollgate lets it through to the upstream without a credential,
 * naming no one and removing the identity headers a client sent; an OPTIONS that is no preflight
 * still needs a key.
 */
import { expect } from 'chai';
import { embeddedServerForSuite } from '../support/embedded-server';
import { anEnvoyCheck, denialOf, isAllowed, upstreamHeaders } from '../support/envoy-requests';

const MASTER_KEY = 'sk-master-cors-preflight-0123';
const PREFLIGHT = { origin: 'https://chat.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' };

describe('CORS preflight end to end', function () {
  this.timeout(60_000);
  const client = embeddedServerForSuite({ LITELLM_MASTER_KEY: MASTER_KEY, DISABLE_LLM_API_ENDPOINTS: 'true' });

  it('lets a preflight through without a key, even on a disabled route, and names no one upstream', async () => {
    const response = await client.check(
      anEnvoyCheck({ method: 'OPTIONS', headers: { ...PREFLIGHT, 'x-tollgate-key-hash': 'spoofed', 'x-tollgate-admin': 'yes' } }),
    );
    expect(isAllowed(response)).to.equal(true);
    const headers = upstreamHeaders(response);
    expect(Object.keys(headers).filter((name) => name.startsWith('x-tollgate-'))).to.deep.equal([]);
    expect(response.ok_response?.headers_to_remove).to.include.members(['x-tollgate-key-hash', 'x-tollgate-admin']);
  });

  it('refuses without a key an OPTIONS upgrading to a WebSocket, which uvicorn would serve as a Realtime session', async () => {
    const response = await client.check(
      anEnvoyCheck({ method: 'OPTIONS', path: '/v1/realtime?model=gpt-4o', headers: { ...PREFLIGHT, upgrade: 'websocket', connection: 'Upgrade' } }),
    );
    expect(isAllowed(response)).to.equal(false);
  });

  it('refuses an OPTIONS without Origin as any request without a key', async () => {
    const response = await client.check(anEnvoyCheck({ method: 'OPTIONS', path: '/v1/models', headers: { 'access-control-request-method': 'GET' } }));
    expect(isAllowed(response)).to.equal(false);
    expect(denialOf(response).code).to.equal('401');
  });
});
