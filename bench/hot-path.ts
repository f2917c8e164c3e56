/**
 * The in-process cost of one warm Check, without the transport: `npx tsx bench/hot-path.ts`
 * (add `--cpu-prof` via `node --cpu-prof -r tsx/cjs bench/hot-path.ts` to profile). Measures CPU
 * time (not wall time, so a busy machine distorts it less) per call of: decoding the request,
 * the Check handler on a warm key (parse → identify → snapshot from memory → checks → response),
 * encoding its response, and encoding the null server's one-header response for comparison; then
 * the bytes each of those allocates per call, the handler's also by stage (HOT_PATH_ALLOCATION_SITES=N
 * lists the N largest allocation sites of the handler, or of HOT_PATH_ALLOCATION_STAGE: parse, decide,
 * respond, decode or encode).
 */
import { Writable } from 'node:stream';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import { Authorizer, type Outcome } from '../src/authorize/authorize';
import type { RequestFacts } from '../src/domain/request';
import { parseCheckRequest } from '../src/envoy/attributes';
import { toCheckResponse } from '../src/envoy/response';
import { hashKey } from '../src/auth/key-hash';
import { CachedAuthStore } from '../src/cache/cached-auth-store';
import type { RedisClient } from '../src/cache/redis-shared-cache';
import { PriceTable } from '../src/metering/prices';
import { RedisAdmitter } from '../src/spend/admission';
import { SpendKeys } from '../src/spend/redis-keys';
import { NO_SHARED_CACHE } from '../src/cache/shared-cache';
import { parseLiteLlmConfig } from '../src/config/litellm-config';
import { settingsFrom } from '../src/config/settings';
import type { CheckRequest, CheckResponse } from '../src/envoy/messages';
import { authorizationService, servingAuthorizationService } from '../src/envoy/protos';
import { createLogger } from '../src/observability/logger';
import { TollgateMetrics } from '../src/observability/metrics';
import { cachePolicyFrom } from '../src/server/runtime';
import { createCheckHandler } from '../src/server/check-handler';
import { aBudget, aKey, aMembership, anAccessGroup, anOrg, aTeam, aUser } from '../test/checks/fixtures';
import { MemoryStore } from '../test/support/memory-store';
import { allocationsPerCall } from './allocations';
import { chatCheckRequest, longContextCheckRequest } from './requests';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { createJwtAuthenticator } from '../src/auth/jwt/create';
import { aSigningKey, aToken } from '../test/support/jwt';
import { MemoryDirectory } from '../test/auth/jwt/fixtures';
import { benchConfigYaml } from './tenant';

const ITERATIONS = Number(process.env.HOT_PATH_ITERATIONS ?? 20_000);
const KEYS = 1_000;
const BATCHES = 10;
const NEVER_CONNECTED = { isReady: false } as unknown as RedisClient;

function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

/** The least CPU per call over BATCHES batches: the machine's noise only ever adds time. */
async function perCall(label: string, work: (i: number) => unknown, iterations = ITERATIONS): Promise<number> {
  for (let i = 0; i < Math.min(2_000, iterations); i += 1) await work(i); // JIT warm-up
  const batch = Math.max(1, Math.floor(iterations / BATCHES));
  let least = Number.POSITIVE_INFINITY;
  for (let b = 0; b < BATCHES; b += 1) {
    const start = cpuMicros();
    for (let i = 0; i < batch; i += 1) await work(i);
    least = Math.min(least, (cpuMicros() - start) / batch);
  }
  console.log(`${label.padEnd(48)} ${least.toFixed(2).padStart(8)} µs CPU per call`);
  return least;
}

async function main(): Promise<void> {
  const config = parseLiteLlmConfig(benchConfigYaml(), {});
  const settings = settingsFrom(config, { LITELLM_MASTER_KEY: 'sk-master-hot-path' });
  const store = new MemoryStore();
  // Shaped like the bench's tenant (bench/tenant.ts): an organization with a budget, a team with
  // models and a DB access group, members with budgets, keys with budgets.
  store.organizations.set('org', anOrg({ organization_id: 'org', budget: aBudget({ budget_id: 'budget-org', max_budget: 1_000_000 }) }));
  store.accessGroups.set('ag-0', anAccessGroup({ access_group_id: 'ag-0', access_model_names: ['gpt-4o'] }));
  store.teams.set(
    'team',
    aTeam({ team_id: 'team', organization_id: 'org', models: ['gpt-4o', 'gpt-4o-mini', 'claude-3-5-sonnet'], max_budget: 10_000, access_group_ids: ['ag-0'] }),
  );
  const rawKeys = Array.from({ length: KEYS }, (_, i) => `sk-hot-path-${i}`);
  rawKeys.forEach((raw, i) => {
    const userId = `user-${i % 100}`;
    store.users.set(userId, aUser({ user_id: userId }));
    const memberBudget = aBudget({ budget_id: `budget-member-${i % 5}`, max_budget: 500 + (i % 5) * 100 });
    store.memberships.set(`${userId}:team`, aMembership({ user_id: userId, team_id: 'team', spend: i % 5, budget: memberBudget }));
    store.keys.set(hashKey(raw), aKey({ token: hashKey(raw), team_id: 'team', user_id: userId, models: [], max_budget: 100, spend: (i % 50) / 10 }));
  });
  // Prometheus metrics as `tollgate serve` keeps them (per-Check decision and latency, cache hits).
  const metrics = new TollgateMetrics({ processMetrics: false });
  const cached = new CachedAuthStore(store, cachePolicyFrom(settings), NO_SHARED_CACHE, metrics.cacheEvents);
  // As `tollgate serve` with Redis: rate limits enforced by default, here for keys that have none
  // (Redis is never asked, so a client that never connects stands in for it).
  const admission = new RedisAdmitter(NEVER_CONNECTED, new SpendKeys('hot-path:'), new PriceTable(config), {
    prefix: 'hot-path:',
    enforceRateLimits: true,
    reservation: null,
    rateLimitMetadata: false,
    metering: false,
    timeoutMs: 50,
    idleCounterMs: 60_000,
    admitWhenReservationUnavailable: false,
    onError: () => undefined,
  });
  const authorizer = new Authorizer({ store: cached, policy: settings.policy, masterKey: settings.masterKey, admission });
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  const handler = createCheckHandler({ settings, authorizer, logger: createLogger('info', discard), instrumentation: metrics.instrumentation });

  const method = authorizationService().Check;
  const wire = rawKeys.map((raw, i) => method.requestSerialize(chatCheckRequest(raw, i)));
  const serving = servingAuthorizationService().Check;
  // Decoded as `tollgate serve` decodes them.
  const decoded = wire.map((bytes) => serving.requestDeserialize(bytes));
  const check = (request: CheckRequest): Promise<CheckResponse> =>
    new Promise((resolve, reject) => {
      const call = { request, getDeadline: () => Number.POSITIVE_INFINITY } as unknown as ServerUnaryCall<CheckRequest, CheckResponse>;
      handler(call, (error, response) => (error ? reject(error) : resolve(response ?? {})));
    });
  for (const request of decoded) {
    const response = await check(request); // warms the cache: every key, user and membership
    if (response.ok_response === undefined) throw new Error(`refused: ${JSON.stringify(response.denied_response)}`);
  }
  const sample = await check(decoded[0] as CheckRequest);
  const nullResponse: CheckResponse = {
    status: { code: 0 },
    ok_response: { headers: [{ header: { key: 'x-null-authz', value: 'ok' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }] },
  };

  console.log(`hot path, ${ITERATIONS} calls each, ${KEYS} warm keys, request ${wire[0]?.length ?? 0} bytes on the wire`);
  const decode = await perCall('decode CheckRequest (null server, protobufjs)', (i) => method.requestDeserialize(wire[i % KEYS] as Buffer));
  const fastDecode = await perCall('decode CheckRequest (Tollgate)', (i) => serving.requestDeserialize(wire[i % KEYS] as Buffer));
  const handle = await perCall('Check handler, warm key (Tollgate only)', (i) => check(decoded[i % KEYS] as CheckRequest));
  // The handler's stages on their own, to see where its time goes.
  const facts = decoded.map((request) => parseCheckRequest(request, settings));
  await perCall('  of which: parse (headers, body, credential)', (i) => parseCheckRequest(decoded[i % KEYS] as CheckRequest, settings));
  await perCall('  of which: decide (identify, snapshot, checks)', (i) => authorizer.decide(facts[i % KEYS] as RequestFacts));
  const outcomes = await Promise.all(facts.map((f) => authorizer.decide(f)));
  await perCall('  of which: build the response', (i) =>
    toCheckResponse((outcomes[i % KEYS] as Outcome).decision, facts[i % KEYS] as RequestFacts, settings),
  );
  // Long contexts: the body is most of the Check, and the prompt in it is never decoded.
  for (const kib of [16, 128, 1024]) {
    const wireLong = method.requestSerialize(longContextCheckRequest(rawKeys[0] as string, 0, kib * 1024));
    const long = serving.requestDeserialize(wireLong);
    const iterations = Math.max(200, Math.floor(ITERATIONS / kib));
    await perCall(`Check handler, warm key, ${kib} KiB chat body`, () => check(long), iterations);
    await perCall('  of which: parse', () => parseCheckRequest(long, settings), iterations);
  }
  await measureWarmJwtCheck(store, cached, metrics);
  const encode = await perCall(`encode Tollgate's CheckResponse`, () => serving.responseSerialize(sample));
  const encodeNull = await perCall(`encode the null server's CheckResponse`, () => method.responseSerialize(nullResponse));
  console.log(`Tollgate adds ≈ ${(fastDecode + handle + encode - decode - encodeNull).toFixed(1)} µs of CPU per Check over the null server`);

  // Garbage per call. The handler is called with prepared calls and a callback that keeps nothing,
  // so what is counted is its own (a warm Check answers before the handler returns).
  const calls = decoded.map(
    (request) => ({ request, getDeadline: () => Number.POSITIVE_INFINITY }) as unknown as ServerUnaryCall<CheckRequest, CheckResponse>,
  );
  const ignore = (): void => undefined;
  const allocated = {
    decodeNull: await allocationsPerCall(ITERATIONS, (i) => method.requestDeserialize(wire[i % KEYS] as Buffer)),
    decode: await allocationsPerCall(ITERATIONS, (i) => serving.requestDeserialize(wire[i % KEYS] as Buffer)),
    handler: await allocationsPerCall(ITERATIONS, (i) => handler(calls[i % KEYS] as ServerUnaryCall<CheckRequest, CheckResponse>, ignore)),
    parse: await allocationsPerCall(ITERATIONS, (i) => parseCheckRequest(decoded[i % KEYS] as CheckRequest, settings)),
    decide: await allocationsPerCall(ITERATIONS, (i) => authorizer.decide(facts[i % KEYS] as RequestFacts)),
    respond: await allocationsPerCall(ITERATIONS, (i) =>
      toCheckResponse((outcomes[i % KEYS] as Outcome).decision, facts[i % KEYS] as RequestFacts, settings),
    ),
    encode: await allocationsPerCall(ITERATIONS, () => serving.responseSerialize(sample)),
  };
  const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;
  console.log(
    `allocated per call (garbage included, sampled): decode ${kb(allocated.decode.bytesPerCall)} (null server ${kb(allocated.decodeNull.bytesPerCall)}), ` +
      `handler ${kb(allocated.handler.bytesPerCall)} (parse ${kb(allocated.parse.bytesPerCall)}, decide ${kb(allocated.decide.bytesPerCall)}, ` +
      `build the response ${kb(allocated.respond.bytesPerCall)}), encode ${kb(allocated.encode.bytesPerCall)}`,
  );
  const sites = Number(process.env.HOT_PATH_ALLOCATION_SITES ?? 0);
  const stage = process.env.HOT_PATH_ALLOCATION_STAGE ?? 'handler';
  if (!(stage in allocated)) throw new Error(`HOT_PATH_ALLOCATION_STAGE: one of ${Object.keys(allocated).join(', ')}`);
  const listed = allocated[stage as keyof typeof allocated];
  for (const [site, bytes] of listed.sites.slice(0, sites)) console.log(`  ${bytes.toFixed(0).padStart(6)} B  ${site}`);
}

/**
 * A JWT caller's warm Check: a team token (`team_id` claim) signed with a statically configured
 * key, its team in memory; the same handler, admission left out (no rate limits apply to the team).
 */
async function measureWarmJwtCheck(store: MemoryStore, cached: CachedAuthStore, metrics: TollgateMetrics): Promise<void> {
  const signing = await aSigningKey('RS256', 'hot-path');
  const config = parseYaml(benchConfigYaml()) as Record<string, Record<string, unknown> | undefined>;
  config.general_settings = { ...config.general_settings, enable_jwt_auth: true, litellm_jwtauth: { team_id_jwt_field: 'team_id' } };
  config.tollgate = { ...config.tollgate, jwt: { public_keys: [signing.pem] } };
  const settings = settingsFrom(parseLiteLlmConfig(toYaml(config), {}), { LITELLM_MASTER_KEY: 'sk-master-hot-path' });
  const jwt = createJwtAuthenticator({ settings, store: cached, directory: new MemoryDirectory(store) });
  const authorizer = new Authorizer({ store: cached, policy: settings.policy, masterKey: settings.masterKey, jwt });
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  const handler = createCheckHandler({ settings, authorizer, logger: createLogger('info', discard), instrumentation: metrics.instrumentation });
  const token = await aToken(signing, { sub: 'hot-path-service', team_id: 'team' }, { expiresIn: 3600 });
  const serving = servingAuthorizationService().Check;
  const request = serving.requestDeserialize(authorizationService().Check.requestSerialize(chatCheckRequest(token, 0)));
  const check = (): Promise<CheckResponse> =>
    new Promise((resolve, reject) => {
      const call = { request, getDeadline: () => Number.POSITIVE_INFINITY } as unknown as ServerUnaryCall<CheckRequest, CheckResponse>;
      handler(call, (error, response) => (error ? reject(error) : resolve(response ?? {})));
    });
  const first = await check();
  if (first.ok_response === undefined) throw new Error(`JWT refused: ${JSON.stringify(first.denied_response)}`);
  await perCall('Check handler, warm JWT (team token, RS256)', () => check());
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
