/** The operations port: /healthz, /readyz, /metrics, and TOLLGATE_HTTP_ADDR parsing. */
import { expect } from 'chai';
import { parseListenAddress, startOpsServer, type OpsServer } from '../../src/server/http-server';

describe('operations HTTP server', () => {
  let server: OpsServer;
  let notReady: string | null = 'store not connected';

  before(async () => {
    server = await startOpsServer('127.0.0.1:0', {
      metrics: () => Promise.resolve({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'tollgate_up 1\n' }),
      notReadyReason: () => notReady,
    });
  });
  after(() => server.close());

  const get = (path: string, method = 'GET'): Promise<Response> => fetch(`http://127.0.0.1:${server.port}${path}`, { method });

  it('answers /healthz 200 whenever the process runs', async () => {
    const response = await get('/healthz');
    expect(response.status).to.equal(200);
    expect(await response.text()).to.equal('ok\n');
  });

  it('answers /readyz 503 with the reason until ready, then 200', async () => {
    notReady = 'store not connected';
    const before = await get('/readyz');
    expect(before.status).to.equal(503);
    expect(await before.text()).to.include('store not connected');
    notReady = null;
    expect((await get('/readyz')).status).to.equal(200);
  });

  it('serves /metrics in the Prometheus text format, ignoring a query string', async () => {
    const response = await get('/metrics?name[]=x');
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.include('version=0.0.4');
    expect(await response.text()).to.equal('tollgate_up 1\n');
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    expect((await get('/')).status).to.equal(404);
    expect((await get('/metrics', 'POST')).status).to.equal(405);
  });

  it('parses host:port, [v6]:port and :port, and names the variable on anything else', () => {
    expect(parseListenAddress('0.0.0.0:9002')).to.deep.equal({ host: '0.0.0.0', port: 9002 });
    expect(parseListenAddress('[::]:9002')).to.deep.equal({ host: '::', port: 9002 });
    expect(parseListenAddress(':9002')).to.deep.equal({ host: '0.0.0.0', port: 9002 });
    expect(() => parseListenAddress('9002')).to.throw(/TOLLGATE_HTTP_ADDR/);
    expect(() => parseListenAddress('host:99999')).to.throw(/TOLLGATE_HTTP_ADDR/);
  });
});
