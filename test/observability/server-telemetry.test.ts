/**
 * End to end: the real `tollgate serve` with OTEL_* pointing at an OTLP receiver on 127.0.0.1,
 * and its operations port (/metrics, /healthz, /readyz) over HTTP.
 */
import { createServer } from 'node:net';
import { expect } from 'chai';
import { hashKey } from '../../src/auth/key-hash';
import { CHECK_SPAN_NAME } from '../../src/observability/trace-telemetry';
import { connect, requireBuild, type Checker } from '../support/e2e';
import { anEnvoyCheck, chat, isAllowed } from '../support/envoy-requests';
import { eventually } from '../support/poll';
import { startServer, type ServerProcess } from '../support/server-process';
import { expectCheckTrace } from './support/check-trace';
import { startOtlpReceiver, type OtlpReceiver } from './support/otlp-receiver';
import { seededSqlite, type SeededStore } from './support/seeded-sqlite';
import { only } from './support/span-view';

const RAW = 'sk-e2e-telemetry-0123456789';
const BLOCKED = 'sk-e2e-telemetry-blocked-0123456789';
const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const ENVOY_SPAN_ID = 'eee19b7ec3c1b174';

function get(server: ServerProcess, path: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${server.httpPort}${path}`);
}

describe('tollgate serve: traces to an OTLP collector, metrics and probes over HTTP', function () {
  this.timeout(120_000);
  let receiver: OtlpReceiver;
  let seeded: SeededStore;
  let server: ServerProcess;
  let client: Checker;

  before(async () => {
    requireBuild();
    receiver = await startOtlpReceiver();
    seeded = await seededSqlite([RAW], [BLOCKED]);
    server = await startServer({
      env: {
        ...seeded.env,
        LITELLM_MASTER_KEY: 'sk-master-e2e-telemetry',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_SERVICE_NAME: 'tollgate-e2e',
        OTEL_BSP_SCHEDULE_DELAY: '100', // export within a tenth of a second instead of five
      },
      startupTimeoutMs: 60_000, // a loaded CI machine can take that long to start Node
    });
    client = connect(server.address);
  });

  after(async () => {
    client?.close();
    const code = await server?.stop();
    await receiver?.close();
    seeded?.cleanup();
    expect(code).to.equal(0);
  });

  it('exports the Check span, parented to the traceparent Envoy sent, with its DB call under load', async () => {
    const response = await client.check(
      anEnvoyCheck({ key: RAW, body: chat('gpt-4o'), headers: { traceparent: `00-${TRACE_ID}-${ENVOY_SPAN_ID}-01` } }),
    );
    expect(isAllowed(response)).to.equal(true);
    const spans = (await receiver.waitFor((all) => all.some((s) => s.traceId === TRACE_ID && s.name === CHECK_SPAN_NAME))).filter(
      (s) => s.traceId === TRACE_ID,
    );
    const root = expectCheckTrace(spans, TRACE_ID, ENVOY_SPAN_ID);
    expect(root.attributes).to.include({
      'tollgate.decision': 'allow',
      'tollgate.key_hash': hashKey(RAW),
      'tollgate.team_id': seeded.teamId,
      'tollgate.org_id': seeded.orgId,
    });
    expect(only(spans, 'sqlite findKey').parentSpanId).to.equal(only(spans, 'tollgate.load').spanId);
    expect(receiver.exports[0]?.resource['service.name']).to.equal('tollgate-e2e');
    expect(receiver.exports[0]?.contentType).to.include('application/x-protobuf');
    expect(JSON.stringify(receiver.spans())).not.to.include(RAW);
  });

  it('serves Prometheus metrics with the decisions, latency, cache and DB series', async () => {
    await client.check(anEnvoyCheck({ key: BLOCKED, body: chat('gpt-4o') }));
    const response = await get(server, '/metrics');
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.include('text/plain');
    const text = await response.text();
    expect(text).to.match(/^tollgate_decisions_total\{result="allow",error_type="",status=""\} [1-9]/m);
    expect(text).to.match(/^tollgate_decisions_total\{result="deny",error_type="auth_error",status="401"\} 1$/m);
    expect(text).to.match(/^tollgate_check_duration_seconds_count\{result="allow"\} [1-9]/m);
    expect(text).to.match(/^tollgate_cache_misses_total\{kind="key"\} [1-9]/m);
    expect(text).to.match(/^tollgate_backend_call_duration_seconds_count\{backend="db",operation="findKey"\} [1-9]/m);
    expect(text).to.match(/^tollgate_checks_in_flight 0$/m);
    expect(text).to.match(/^process_cpu_seconds_total /m);
    expect(text).not.to.include(hashKey(RAW));
  });

  // After the metrics test, which counts one denial.
  it("names the Check's trace and span on its denial's log line", async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const response = await client.check(
      anEnvoyCheck({ key: BLOCKED, body: chat('gpt-4o'), headers: { traceparent: `00-${traceId}-${ENVOY_SPAN_ID}-01` } }),
    );
    expect(isAllowed(response)).to.equal(false);
    const spans = await receiver.waitFor((all) => all.some((s) => s.traceId === traceId && s.name === CHECK_SPAN_NAME));
    const check = spans.find((s) => s.traceId === traceId && s.name === CHECK_SPAN_NAME);
    const logged = await eventually(
      async () => server.logs.find((line) => line.msg === 'denied' && line.traceId === traceId),
      (line) => line !== undefined,
    );
    expect(logged).to.include({ traceId, spanId: check?.spanId, keyHash: hashKey(BLOCKED) });
  });

  it('answers /healthz and /readyz 200 once the store is connected', async () => {
    expect((await get(server, '/healthz')).status).to.equal(200);
    const ready = await get(server, '/readyz');
    expect(ready.status).to.equal(200);
    expect(await ready.text()).to.equal('ready\n');
  });
});

describe('tollgate serve before its store connects', function () {
  this.timeout(120_000);
  let server: ServerProcess;

  before(async () => {
    requireBuild();
    // A port nobody listens on: every connection attempt is refused, and serve keeps retrying.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as import('node:net').AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    server = await startServer({
      env: { DATABASE_URL: `mysql://root@127.0.0.1:${port}/tollgate`, LITELLM_MASTER_KEY: 'sk-master-unready' },
      waitForStore: false,
      startupTimeoutMs: 60_000,
    });
  });

  after(async () => {
    expect(await server?.stop()).to.equal(0);
  });

  it('is alive (/healthz 200) but not ready (/readyz 503, saying why)', async () => {
    expect((await get(server, '/healthz')).status).to.equal(200);
    const ready = await get(server, '/readyz');
    expect(ready.status).to.equal(503);
    expect(await ready.text()).to.include('store not connected');
  });

  it('leaves tracing off when no OTEL_* variable is set', () => {
    expect(server.logs.some((line) => line.msg === 'tracing on')).to.equal(false);
  });
});
