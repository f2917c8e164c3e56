/**
 * Tracing through the real Check handler with an in-memory exporter: the Check span continues
 * Envoy's trace (W3C traceparent, b3 single and multi), phases are child spans, checks are
 * span events, DB and Redis calls nest under the load phase, and no secret reaches a span.
 */
import { expect } from 'chai';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { hashKey } from '../../src/auth/key-hash';
import type { VirtualKey } from '../../src/domain/entities';
import { tracingConfigFrom } from '../../src/observability/otel-config';
import { CHECK_SPAN_NAME } from '../../src/observability/trace-telemetry';
import { startTracing, type Tracing } from '../../src/observability/tracing';
import { StoreUnavailableError } from '../../src/store/unavailable';
import { aKey, anOrg, aTeam } from '../checks/fixtures';
import { anEnvoyCheck, chat, isAllowed } from '../support/envoy-requests';
import { expectCheckTrace } from './support/check-trace';
import { allText, only, viewOf, type SpanView } from './support/span-view';
import { aHarness, MASTER_KEY, type Harness } from './support/traced-handler';

const RAW = 'sk-trace-team-key-0123456789';
const HASH = hashKey(RAW);
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const ENVOY_SPAN_ID = '00f067aa0ba902b7';

describe('tracing: one span per Check, continuing the trace Envoy started', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let harness: Harness;

  before(() => {
    const traced = startTracing(tracingConfigFrom({ OTEL_TRACES_EXPORTER: 'otlp' }), { dbSystem: 'sqlite', exporter });
    if (traced === null) throw new Error('tracing should be on');
    tracing = traced;
  });
  after(() => tracing.shutdown());

  beforeEach(() => {
    exporter.reset();
    harness = aHarness(tracing);
    harness.store.keys.set(HASH, aKey({ token: HASH, team_id: 't-trace', key_alias: 'ci-bot' }));
    harness.store.teams.set('t-trace', aTeam({ team_id: 't-trace', organization_id: 'o-trace' }));
    harness.store.organizations.set('o-trace', anOrg({ organization_id: 'o-trace' }));
  });

  const spans = (): SpanView[] => exporter.getFinishedSpans().map(viewOf);

  it('is not built at all when no exporter is configured: the request path keeps the no-op', () => {
    expect(startTracing(tracingConfigFrom({}), { dbSystem: 'sqlite' })).to.equal(null);
  });

  it('continues a W3C traceparent: phase child spans, check events, DB and Redis spans under load', async () => {
    const answer = await harness.check(
      anEnvoyCheck({
        key: RAW,
        body: chat('gpt-4o'),
        headers: { traceparent: `00-${TRACE_ID}-${ENVOY_SPAN_ID}-01`, tracestate: 'vendor=opaque' },
      }),
    );
    expect(answer.response && isAllowed(answer.response)).to.equal(true);
    const all = spans();
    const root = expectCheckTrace(all, TRACE_ID, ENVOY_SPAN_ID);
    expect(all.filter((s) => s.name.startsWith('tollgate.')).map((s) => s.name)).to.have.members([
      'tollgate.parse',
      'tollgate.checks',
      'tollgate.identify',
      'tollgate.load',
      'tollgate.checks',
      'tollgate.respond',
    ]);
    expect(root.attributes).to.include({
      'tollgate.decision': 'allow',
      'tollgate.key_hash': HASH,
      'tollgate.key_alias': 'ci-bot',
      'tollgate.team_id': 't-trace',
      'tollgate.org_id': 'o-trace',
      'tollgate.model': 'gpt-4o',
      'rpc.grpc.status_code': 0,
    });
    expect(root.attributes['tollgate.request_id']).to.match(/^req-/);

    const load = only(all, 'tollgate.load');
    const findKey = only(all, 'sqlite findKey');
    expect(findKey.parentSpanId, 'DB call nests under the load phase').to.equal(load.spanId);
    expect(findKey.kind, 'CLIENT').to.equal(3);
    expect(findKey.attributes).to.include({ 'db.system.name': 'sqlite', 'db.operation.name': 'findKey' });
    const redisGets = all.filter((s) => s.name === 'redis GET');
    expect(redisGets.length, 'shared tier consulted before the DB').to.be.greaterThan(0);
    for (const get of redisGets) expect(get.parentSpanId).to.equal(load.spanId);

    const checkEvents = all.filter((s) => s.name === 'tollgate.checks').flatMap((s) => s.events);
    expect(checkEvents.map((e) => e.name)).to.include('key_blocked');
    expect(checkEvents.every((e) => e.attributes['tollgate.check.refused'] === false)).to.equal(true);
  });

  it('a warm key makes no DB or Redis span at all', async () => {
    const request = (): ReturnType<typeof anEnvoyCheck> => anEnvoyCheck({ key: RAW, body: chat('gpt-4o') });
    await harness.check(request());
    await new Promise((resolve) => setImmediate(resolve)); // the shared-tier write after a load
    exporter.reset();
    await harness.check(request());
    expect(spans().filter((s) => s.kind === 3)).to.deep.equal([]);
  });

  it('continues a b3 single header', async () => {
    await harness.check(anEnvoyCheck({ key: RAW, body: chat('gpt-4o'), headers: { b3: `${TRACE_ID}-${ENVOY_SPAN_ID}-1` } }));
    expectCheckTrace(spans(), TRACE_ID, ENVOY_SPAN_ID);
  });

  it('continues b3 multi headers (X-B3-TraceId / SpanId / Sampled, 64-bit trace id padded)', async () => {
    await harness.check(
      anEnvoyCheck({
        key: RAW,
        body: chat('gpt-4o'),
        headers: { 'x-b3-traceid': 'a3ce929d0e0e4736', 'x-b3-spanid': ENVOY_SPAN_ID, 'x-b3-sampled': '1' },
      }),
    );
    expectCheckTrace(spans(), '0000000000000000a3ce929d0e0e4736', ENVOY_SPAN_ID);
  });

  it('starts a new trace when Envoy sent none', async () => {
    await harness.check(anEnvoyCheck({ key: RAW, body: chat('gpt-4o') }));
    const root = only(spans(), CHECK_SPAN_NAME);
    expect(root.parentSpanId).to.equal('');
    expect(root.traceId).to.match(/^[0-9a-f]{32}$/);
  });

  it('continues the trace when Envoy sends raw headers (encode_raw_headers: header_map, not headers)', async () => {
    const answer = await harness.check(
      anEnvoyCheck({ key: RAW, body: chat('gpt-4o'), rawHeaders: true, headers: { traceparent: `00-${TRACE_ID}-${ENVOY_SPAN_ID}-01` } }),
    );
    expect(answer.response && isAllowed(answer.response)).to.equal(true);
    expectCheckTrace(spans(), TRACE_ID, ENVOY_SPAN_ID);
  });

  it("follows Envoy's sampling decision: an unsampled traceparent records nothing", async () => {
    await harness.check(
      anEnvoyCheck({ key: RAW, body: chat('gpt-4o'), headers: { traceparent: `00-${TRACE_ID}-${ENVOY_SPAN_ID}-00` } }),
    );
    expect(spans()).to.deep.equal([]);
  });

  it('marks a denial with its error type, HTTP status and refusing check, and keeps the span status unset', async () => {
    const blocked = 'sk-trace-blocked-0123456789';
    harness.store.keys.set(hashKey(blocked), aKey({ token: hashKey(blocked), blocked: true }));
    await harness.check(anEnvoyCheck({ key: blocked, body: chat('gpt-4o') }));
    const all = spans();
    const root = only(all, CHECK_SPAN_NAME);
    expect(root.attributes).to.include({
      'tollgate.decision': 'deny',
      'tollgate.error_type': 'auth_error',
      'http.response.status_code': 401,
      'tollgate.refused_by': 'key_blocked',
      'rpc.grpc.status_code': 16,
      'tollgate.key_hash': hashKey(blocked),
    });
    expect(root.statusCode, 'a denial is an answer, not a server error').to.equal(0);
    const events = all.filter((s) => s.name === 'tollgate.checks').flatMap((s) => s.events);
    expect(events.at(-1)).to.deep.equal({ name: 'key_blocked', attributes: { 'tollgate.check.refused': true } });
  });

  it('records a budget alert as a span event on the Check, without e-mail addresses', async () => {
    const nearlySpent = 'sk-trace-nearly-spent-0123456789';
    harness.store.keys.set(hashKey(nearlySpent), aKey({ token: hashKey(nearlySpent), max_budget: 10, spend: 9 }));
    await harness.check(anEnvoyCheck({ key: nearlySpent, body: chat('gpt-4o') }));
    const root = only(spans(), CHECK_SPAN_NAME);
    expect(root.attributes['tollgate.decision']).to.equal('allow');
    expect(root.events).to.deep.include({
      name: 'budget_alert',
      attributes: {
        'tollgate.alert.type': 'max_budget_alert',
        'tollgate.alert.entity': 'key',
        'tollgate.alert.entity_id': hashKey(nearlySpent),
        'tollgate.alert.spend': 9,
        'tollgate.alert.max_budget': 10,
      },
    });
  });

  it('marks a Check that cannot be decided as an error, with the failed DB call', async () => {
    const broken = aHarness(tracing);
    // As the database store fails (store/deadline.ts): the driver's error inside StoreUnavailableError.
    const driverError = Object.assign(new Error('connect ECONNREFUSED mysql://tollgate:hunter2@db'), { name: 'QueryFailedError' });
    broken.store.findKey = (): Promise<VirtualKey | null> =>
      Promise.reject(new StoreUnavailableError(`database call findKey failed: ${driverError.name}: ${driverError.message}`, { cause: driverError }));
    const answer = await broken.check(anEnvoyCheck({ key: RAW, body: chat('gpt-4o') }));
    expect(answer.error?.code).to.equal(14);
    const all = spans();
    const root = only(all, CHECK_SPAN_NAME);
    expect(root.statusCode).to.equal(2);
    expect(root.attributes).to.include({ 'tollgate.decision': 'undecided', 'error.type': 'store_unavailable' });
    const failed = only(all, 'sqlite findKey');
    expect(failed.statusCode).to.equal(2);
    expect(failed.attributes['error.type']).to.equal('StoreUnavailableError');
    expect(allText(all), 'driver messages can quote connection strings').not.to.include('hunter2');
  });

  it('never records the raw key, the master key, a JWT or the body', async () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0cmFjZSJ9.c2lnbmF0dXJlLXRyYWNl';
    await harness.check(anEnvoyCheck({ key: RAW, body: chat('gpt-4o', { api_key: 'sk-body-secret-xyz' }) }));
    await harness.check(anEnvoyCheck({ key: MASTER_KEY, body: chat('gpt-4o') }));
    await harness.check(anEnvoyCheck({ key: jwt, body: chat('gpt-4o') }));
    const text = allText(spans());
    for (const secret of [RAW, MASTER_KEY, jwt, 'sk-body-secret-xyz', 'Say hello']) expect(text).not.to.include(secret);
    expect(text).to.include(HASH);
  });
});
