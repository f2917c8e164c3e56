/**
 * Prometheus metrics after a few Checks through the real handler and cache: decisions by result
 * and error type, latency, in-flight, cache tiers, DB/Redis calls, undecided by reason; and no
 * label ever carries an id, a key or a model.
 */
import { expect } from 'chai';
import { hashKey } from '../../src/auth/key-hash';
import type { VirtualKey } from '../../src/domain/entities';
import { TollgateMetrics } from '../../src/observability/metrics';
import { StoreUnavailableError } from '../../src/store/unavailable';
import { aKey, aTeam } from '../checks/fixtures';
import { anEnvoyCheck, chat } from '../support/envoy-requests';
import { aHarness, MASTER_KEY } from './support/traced-handler';

const RAW = 'sk-metrics-team-key-0123456789';
const HASH = hashKey(RAW);
const BLOCKED = 'sk-metrics-blocked-0123456789';
const NEARLY_SPENT = 'sk-metrics-nearly-spent-0123456789';

/** Value of one sample line, e.g. sample(text, 'tollgate_decisions_total{result="allow",…}'). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no sample ${series} in:\n${text}`);
  return Number(line.slice(series.length + 1));
}

describe('Prometheus metrics', () => {
  let metrics: TollgateMetrics;
  let text: string;

  before(async () => {
    metrics = new TollgateMetrics({ processMetrics: false });
    const harness = aHarness(metrics);
    harness.store.keys.set(HASH, aKey({ token: HASH, team_id: 't-metrics' }));
    harness.store.teams.set('t-metrics', aTeam({ team_id: 't-metrics' }));
    harness.store.keys.set(hashKey(BLOCKED), aKey({ token: hashKey(BLOCKED), blocked: true }));

    await harness.check(anEnvoyCheck({ key: RAW, body: chat('gpt-4o') })); // cold: Redis miss, DB
    await harness.check(anEnvoyCheck({ key: RAW, body: chat('gpt-4o') })); // warm: memory
    await harness.check(anEnvoyCheck({ key: MASTER_KEY, body: chat('gpt-4o') }));
    await harness.check(anEnvoyCheck({ key: BLOCKED, body: chat('gpt-4o') }));
    await harness.check(anEnvoyCheck({ body: chat('gpt-4o') })); // no credential: 401 at identify
    harness.store.keys.set(hashKey(NEARLY_SPENT), aKey({ token: hashKey(NEARLY_SPENT), max_budget: 10, spend: 9 }));
    await harness.check(anEnvoyCheck({ key: NEARLY_SPENT, body: chat('gpt-4o') })); // allowed, 80 % alert

    const down = aHarness(metrics);
    down.shared.failing = true;
    // As the database store fails (store/deadline.ts): a driver error inside StoreUnavailableError.
    down.store.findKey = (): Promise<VirtualKey | null> => Promise.reject(new StoreUnavailableError('database call findKey failed: Error: db down'));
    await down.check(anEnvoyCheck({ key: RAW, body: chat('gpt-4o') }));
    text = (await metrics.scrape()).body;
  });

  it('counts decisions by result, LiteLLM error type and HTTP status', () => {
    expect(sample(text, 'tollgate_decisions_total{result="allow",error_type="",status=""}')).to.equal(4);
    expect(sample(text, 'tollgate_decisions_total{result="deny",error_type="auth_error",status="401"}')).to.equal(2);
    expect(sample(text, 'tollgate_check_refusals_total{check="key_blocked"}')).to.equal(1);
    expect(sample(text, 'tollgate_check_refusals_total{check="identify"}')).to.equal(1);
  });

  it('counts budget alerts by type and budget owner', () => {
    expect(sample(text, 'tollgate_budget_alerts_total{type="max_budget_alert",entity="key"}')).to.equal(1);
  });

  it('counts Checks answered UNAVAILABLE by reason', () => {
    expect(sample(text, 'tollgate_undecided_total{reason="store_unavailable"}')).to.equal(1);
  });

  it('times every Check in sub-millisecond buckets, by result, and has none in flight afterwards', () => {
    expect(sample(text, 'tollgate_check_duration_seconds_count{result="allow"}')).to.equal(4);
    expect(sample(text, 'tollgate_check_duration_seconds_count{result="deny"}')).to.equal(2);
    expect(sample(text, 'tollgate_check_duration_seconds_count{result="undecided"}')).to.equal(1);
    expect(text).to.include('tollgate_check_duration_seconds_bucket{le="0.00005",result="allow"}');
    // Warm Checks take 10–30 µs: buckets below 50 µs tell them apart.
    expect(text).to.include('tollgate_check_duration_seconds_bucket{le="0.00001",result="allow"}');
    expect(text).to.include('tollgate_check_duration_seconds_bucket{le="0.000025",result="allow"}');
    expect(sample(text, 'tollgate_checks_in_flight')).to.equal(0);
  });

  it('counts cache hits per tier and kind, and misses per kind', () => {
    expect(sample(text, 'tollgate_cache_misses_total{kind="key"}')).to.be.greaterThanOrEqual(2);
    expect(sample(text, 'tollgate_cache_hits_total{kind="key",tier="memory"}')).to.be.greaterThanOrEqual(1);
    expect(sample(text, 'tollgate_cache_errors_total{kind="key",source="shared_tier"}')).to.equal(1);
  });

  it('counts entries served stale, by kind and reason, summed at scrape time', async () => {
    const counted = new TollgateMetrics({ processMetrics: false });
    counted.cacheEvents.staleServed('key', 'revalidating');
    counted.cacheEvents.staleServed('key', 'revalidating');
    counted.cacheEvents.staleServed('team', 'loader_failed');
    const body = (await counted.scrape()).body;
    expect(sample(body, 'tollgate_cache_stale_served_total{kind="key",reason="revalidating"}')).to.equal(2);
    expect(sample(body, 'tollgate_cache_stale_served_total{kind="team",reason="loader_failed"}')).to.equal(1);
    counted.cacheEvents.staleServed('key', 'revalidating');
    expect(sample((await counted.scrape()).body, 'tollgate_cache_stale_served_total{kind="key",reason="revalidating"}')).to.equal(3);
  });

  it('times DB lookups and Redis commands, and counts their errors', () => {
    expect(sample(text, 'tollgate_backend_call_duration_seconds_count{backend="db",operation="findKey"}')).to.equal(4);
    expect(sample(text, 'tollgate_backend_call_duration_seconds_count{backend="redis",operation="GET"}')).to.be.greaterThanOrEqual(2);
    expect(sample(text, 'tollgate_backend_call_errors_total{backend="db",operation="findKey"}')).to.equal(1);
    expect(sample(text, 'tollgate_backend_call_errors_total{backend="redis",operation="GET"}')).to.equal(1);
  });

  it('never labels a series with an id, a key, a key hash or a model', () => {
    for (const value of [RAW, HASH, MASTER_KEY, 't-metrics', 'gpt-4o']) expect(text).not.to.include(value);
  });

  it('reports the in-flight bound and the Checks refused by it', async () => {
    const watched = new TollgateMetrics({ processMetrics: false });
    const admission = { limit: 8, refusedTotal: 3 };
    watched.watchAdmission(admission);
    expect(sample((await watched.scrape()).body, 'tollgate_overload_refusals_total')).to.equal(3);
    admission.refusedTotal = 5;
    const body = (await watched.scrape()).body;
    expect(sample(body, 'tollgate_overload_refusals_total')).to.equal(5);
    expect(sample(body, 'tollgate_max_in_flight')).to.equal(8);
  });

  it('counts a Check once even if the handler reported its end twice', () => {
    const once = new TollgateMetrics({ processMetrics: false });
    const request = once.instrumentation.startRequest({});
    request.undecided('internal');
    request.undecided('internal');
    return once.scrape().then(({ body }) => {
      expect(sample(body, 'tollgate_undecided_total{reason="internal"}')).to.equal(1);
      expect(sample(body, 'tollgate_checks_in_flight')).to.equal(0);
    });
  });
});
