/**
 * `npm run soak`: a bounded soak of the real server on loopback. Runs `tollgate serve` (the built
 * bin) on the embedded store, or on MySQL + Redis, sends Checks at a fixed rate for a while, and
 * reports per window the latency percentiles and the server's RSS, then whether both stayed flat
 * (least-squares slope over the run, after a warm-up). Exit code 0 when flat, 1 when not.
 *
 * The traffic is a mix meant to churn every bounded structure: warm keys (memory hits), a key set
 * larger than the cache (LRU evictions and reloads), unknown keys (negative cache), denials
 * (blocked key, wrong model) and hostile bodies.
 *
 *   npm run soak                                  # 5 minutes, embedded store
 *   npm run soak -- --seconds 60 --rps 300        # shorter, other rate
 *   npm run soak -- --backend mysql               # MySQL + Redis (TOLLGATE_TEST_MYSQL_URL, TOLLGATE_TEST_REDIS_URL)
 *
 * Not part of `npm test` or CI: it takes minutes and measures, it does not assert behaviour.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createConnection } from 'mysql2/promise';
import { createClient } from 'redis';
import { hashKey } from '../../src/auth/key-hash';
import type { CheckRequest } from '../../src/envoy/messages';
import { createDataSource, type DatabaseSettings } from '../../src/store/data-source';
import { runMigrations } from '../../src/store/migrations';
import { connect, requireBuild, writeConfig } from '../support/e2e';
import { anEnvoyCheck, chat, isAllowed } from '../support/envoy-requests';
import { LiteLlmRows } from '../support/litellm-rows';
import { tempSqlitePath } from '../support/mysql';
import { startServer } from '../support/server-process';
import { flatness, percentile } from './stats';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: process.env.SOAK_SECONDS ?? '300' },
    window: { type: 'string', default: process.env.SOAK_WINDOW_SECONDS ?? '10' },
    rps: { type: 'string', default: process.env.SOAK_RPS ?? '500' },
    deadline: { type: 'string', default: process.env.SOAK_DEADLINE_MS ?? '500' },
    backend: { type: 'string', default: process.env.SOAK_BACKEND ?? 'sqlite' },
    keys: { type: 'string', default: process.env.SOAK_KEYS ?? '3000' },
    'cache-entries': { type: 'string', default: process.env.SOAK_CACHE_ENTRIES ?? '1000' },
  },
});
const SECONDS = Number(args.seconds);
const WINDOW_SECONDS = Number(args.window);
const RPS = Number(args.rps);
const DEADLINE_MS = Number(args.deadline);
const KEY_COUNT = Number(args.keys);
const CACHE_ENTRIES = Number(args['cache-entries']);
const MASTER_KEY = 'sk-master-soak-0001';
/** The first windows are warm-up (JIT, pools, caches filling) and are left out of the slope. */
const WARMUP_FRACTION = 0.2;
/** A bound on requests the generator itself keeps waiting, so an overloaded run cannot grow it. */
const GENERATOR_MAX_PENDING = 5000;

interface Backend {
  readonly env: Record<string, string>;
  readonly database: DatabaseSettings;
  cleanup(): Promise<void>;
}

async function openBackend(name: string): Promise<Backend> {
  if (name === 'sqlite') {
    const file = tempSqlitePath();
    return {
      env: { TOLLGATE_SQLITE_PATH: file.path },
      database: { databaseUrl: null, sqlitePath: file.path, dbTimeoutMs: 2000 },
      cleanup: async () => file.cleanup(),
    };
  }
  if (name !== 'mysql') throw new Error(`--backend must be sqlite or mysql, not ${name}`);
  const server = new URL(process.env.TOLLGATE_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306');
  const redisUrl = process.env.TOLLGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const suffix = randomBytes(6).toString('hex');
  const databaseName = `tollgate_soak_${suffix}`; // hex only: safe in DDL
  const prefix = `tollgate-soak-${suffix}:`;
  const admin = await createConnection({
    host: server.hostname,
    port: Number(server.port || 3306),
    user: decodeURIComponent(server.username),
    password: server.password === '' ? undefined : decodeURIComponent(server.password),
  });
  await admin.query(`CREATE DATABASE \`${databaseName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  const url = new URL(server.toString());
  url.pathname = `/${databaseName}`;
  return {
    env: { DATABASE_URL: url.toString(), REDIS_URL: redisUrl, TOLLGATE_REDIS_PREFIX: prefix },
    database: { databaseUrl: url.toString(), sqlitePath: '', dbTimeoutMs: 2000 },
    async cleanup(): Promise<void> {
      await admin.query(`DROP DATABASE IF EXISTS \`${databaseName}\``);
      await admin.end();
      // Only this run's prefix: the Redis is shared.
      const redis = createClient({ url: redisUrl });
      redis.on('error', () => undefined);
      await redis.connect();
      for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length > 0) await redis.del(keys);
      redis.destroy();
    },
  };
}

interface Traffic {
  readonly valid: readonly string[];
  readonly blocked: string;
}

async function seed(database: DatabaseSettings): Promise<Traffic> {
  const dataSource = createDataSource(database);
  await dataSource.initialize();
  try {
    await runMigrations(dataSource);
    const rows = new LiteLlmRows(dataSource);
    const team = await rows.aTeam({ models: ['gpt-4o', 'gpt-4o-mini'] });
    const valid = Array.from({ length: KEY_COUNT }, (_, i) => `sk-soak-${i}-${randomBytes(6).toString('hex')}`);
    for (const key of valid) await rows.aKey({ token: hashKey(key), team_id: team.team_id });
    const blocked = `sk-soak-blocked-${randomBytes(6).toString('hex')}`;
    await rows.aKey({ token: hashKey(blocked), team_id: team.team_id, blocked: true });
    return { valid, blocked };
  } finally {
    await dataSource.destroy();
  }
}

/** One request of the mix. Warm keys are the first 5% of the set; the rest rotate through the cache. */
function nextRequest(traffic: Traffic, sequence: number): CheckRequest {
  const roll = sequence % 100;
  const warm = traffic.valid[sequence % Math.max(1, Math.floor(traffic.valid.length / 20))] as string;
  if (roll < 80) return anEnvoyCheck({ key: warm, body: chat('gpt-4o') });
  if (roll < 90) return anEnvoyCheck({ key: traffic.valid[(sequence * 7919) % traffic.valid.length], body: chat('gpt-4o-mini') });
  if (roll < 94) return anEnvoyCheck({ key: `sk-unknown-${sequence}`, body: chat('gpt-4o') });
  if (roll < 96) return anEnvoyCheck({ key: traffic.blocked, body: chat('gpt-4o') });
  if (roll < 98) return anEnvoyCheck({ key: warm, body: chat('claude-3-opus') });
  return anEnvoyCheck({ key: warm, body: `{"model":"gpt-4o","messages":[${'['.repeat(500)}`, truncateTo: 300 });
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kib / 1024;
}

interface Window {
  readonly endSecond: number;
  readonly latencies: number[];
  errors: number;
  allowed: number;
  denied: number;
  skipped: number;
  rss: number;
}

const fmt = (ms: number): string => (Number.isNaN(ms) ? '-' : ms < 10 ? ms.toFixed(2) : ms.toFixed(1));

async function main(): Promise<number> {
  requireBuild();
  const backend = await openBackend(args.backend ?? 'sqlite');
  const config = writeConfig(`tollgate:\n  cache_max_entries: ${CACHE_ENTRIES}\n  cache_ttl_seconds: 30\n`);
  let stopServer: (() => Promise<number | null>) | null = null;
  try {
    console.log(`seeding ${KEY_COUNT} keys on ${args.backend} ...`);
    const traffic = await seed(backend.database);
    const server = await startServer({
      // info, as in production: denials are logged, and startServer reads the "serving" line.
      env: { ...backend.env, LITELLM_MASTER_KEY: MASTER_KEY, TOLLGATE_CONFIG: config.path, TOLLGATE_HTTP_ADDR: '127.0.0.1:0', LOG_LEVEL: 'info' },
      startupTimeoutMs: 60_000,
    });
    stopServer = () => server.stop();
    const pid = server.child.pid;
    if (pid === undefined) throw new Error('server has no pid');
    const client = connect(server.address);
    console.log(
      `soak: ${SECONDS} s at ${RPS} Checks/s, deadline ${DEADLINE_MS} ms, ${KEY_COUNT} keys over a ${CACHE_ENTRIES}-entry cache, windows of ${WINDOW_SECONDS} s`,
    );
    console.log('window    sent  allow  deny  err  skip    p50 ms   p90 ms   p99 ms   max ms   RSS MiB');

    const windows: Window[] = [];
    const started = Date.now();
    let current: Window = { endSecond: WINDOW_SECONDS, latencies: [], errors: 0, allowed: 0, denied: 0, skipped: 0, rss: 0 };
    let sequence = 0;
    let pending = 0;
    let reportedError = false;
    const perTick = RPS / 100;
    let owed = 0;

    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const elapsed = (Date.now() - started) / 1000;
        if (elapsed >= current.endSecond) {
          current.rss = rssMiB(pid);
          windows.push(current);
          const w = current;
          console.log(
            `${String(w.endSecond).padStart(5)} s ${String(w.latencies.length + w.errors).padStart(7)} ${String(w.allowed).padStart(6)} ${String(w.denied).padStart(5)} ${String(w.errors).padStart(4)} ${String(w.skipped).padStart(5)} ${fmt(percentile(w.latencies, 50)).padStart(9)} ${fmt(percentile(w.latencies, 90)).padStart(8)} ${fmt(percentile(w.latencies, 99)).padStart(8)} ${fmt(percentile(w.latencies, 100)).padStart(8)} ${w.rss.toFixed(1).padStart(9)}`,
          );
          current = { endSecond: current.endSecond + WINDOW_SECONDS, latencies: [], errors: 0, allowed: 0, denied: 0, skipped: 0, rss: 0 };
          if (elapsed >= SECONDS) {
            clearInterval(tick);
            resolve();
            return;
          }
        }
        owed += perTick;
        for (; owed >= 1; owed -= 1) {
          if (pending >= GENERATOR_MAX_PENDING) {
            current.skipped += 1;
            continue;
          }
          const window = current;
          const sentAt = process.hrtime.bigint();
          pending += 1;
          sequence += 1;
          client.check(nextRequest(traffic, sequence), DEADLINE_MS).then(
            (response) => {
              pending -= 1;
              window.latencies.push(Number(process.hrtime.bigint() - sentAt) / 1e6);
              if (isAllowed(response)) window.allowed += 1;
              else window.denied += 1;
            },
            (error: Error) => {
              pending -= 1;
              window.errors += 1;
              if (!reportedError) {
                reportedError = true;
                console.log(`first error: ${error.message}`);
              }
            },
          );
        }
      }, 10);
    });
    client.close();

    const measured = windows.slice(Math.floor(windows.length * WARMUP_FRACTION));
    const rss = flatness(measured.map((w) => [w.endSecond, w.rss] as const), 0.1, 16);
    const answered = measured.filter((w) => w.latencies.length > 0);
    const p99 = flatness(answered.map((w) => [w.endSecond, percentile(w.latencies, 99)] as const), 0.5, 2);
    const all = windows.flatMap((w) => w.latencies);
    const errors = windows.reduce((sum, w) => sum + w.errors, 0);
    // Errors here are missed deadlines: a machine too busy to run the soak measures itself, not
    // Tollgate. Judged after warm-up, like the slopes (the first window includes JIT and cold caches).
    const measuredErrors = measured.reduce((sum, w) => sum + w.errors, 0);
    const measuredSent = measured.reduce((sum, w) => sum + w.errors + w.latencies.length, 0);
    const skipped = measured.reduce((sum, w) => sum + w.skipped, 0);
    const errorRate = measuredErrors / Math.max(1, measuredSent);
    console.log('');
    console.log(`overall: ${all.length + errors} Checks, ${errors} errors; p50 ${fmt(percentile(all, 50))} ms, p90 ${fmt(percentile(all, 90))} ms, p99 ${fmt(percentile(all, 99))} ms, max ${fmt(percentile(all, 100))} ms`);
    console.log(
      `RSS  after warm-up: median ${rss.median.toFixed(1)} MiB, slope ${rss.slopePerMinute.toFixed(2)} MiB/min, trend over the run ${rss.projectedChange.toFixed(1)} MiB → ${rss.flat ? 'FLAT' : 'GROWING'}`,
    );
    console.log(
      `p99  after warm-up: median ${fmt(p99.median)} ms, slope ${p99.slopePerMinute.toFixed(3)} ms/min, trend over the run ${p99.projectedChange.toFixed(2)} ms → ${p99.flat ? 'FLAT' : 'GROWING'}`,
    );
    const code = await server.stop();
    stopServer = null;
    console.log(`server exited with ${String(code)}`);
    if (errorRate > 0.01 || skipped > 0) {
      console.log(
        `INCONCLUSIVE: after warm-up ${(errorRate * 100).toFixed(2)}% of Checks missed the ${DEADLINE_MS} ms deadline and ${skipped} were not sent; rerun with a lower --rps or on a quieter machine`,
      );
      return 1;
    }
    console.log(`after warm-up ${(errorRate * 100).toFixed(2)}% of Checks missed the deadline`);
    console.log(rss.flat && p99.flat ? 'verdict: latency and RSS stayed flat' : 'verdict: NOT flat (see the slopes above)');
    return rss.flat && p99.flat && code === 0 ? 0 : 1;
  } finally {
    if (stopServer !== null) await stopServer();
    config.cleanup();
    await backend.cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.stack : String(error));
    process.exit(2);
  },
);
