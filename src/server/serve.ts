/**
 * `tollgate serve`: listen at once (health NOT_SERVING), connect the store in the background
 * with retries, report SERVING once it answers; on SIGTERM report NOT_SERVING, let in-flight
 * calls finish, close pools and exit 0.
 */
import { Authorizer } from '../authorize/authorize';
import { CacheInvalidationListener } from '../cache/invalidation';
import { jwtKeyMappingId } from '../cache/cached-auth-store';
import type { Settings } from '../config/settings';
import type { Logger } from '../observability/logger';
import { startTelemetry } from '../observability/telemetry';
import { Admission } from './admission';
import { createMetering } from '../metering/metering-runtime';
import { createCheckHandler } from './check-handler';
import { DeferredAuthStore } from './deferred-store';
import { wireJwt } from './jwt-wiring';
import { startGrpcServer } from './grpc-server';
import { startOpsServer, type OpsServer } from './http-server';
import { logRoundTripsOnSignal } from './round-trips';
import { closeRedis, openRedis, openStore, type StoreRuntime } from './runtime';
import { exposeMetricsToPrimary, isClusterWorker, reportServing } from './workers';
import { withTimeout } from '../util/timeout';
import { DatabaseModelRefresh } from './database-models';
import { readDatabaseModelList } from '../store/db-model-list';
import { withDatabaseModels } from '../config/policy';
import { AlertEmitter } from '../alerts/alert-emitter';

const CONNECT_RETRY_MS = 1_000;
const SHUTDOWN_GRACE_MS = 10_000;
/** Budget alerts still queued at shutdown get this long to leave. */
const ALERT_FLUSH_MS = 2_000;
const POOL_CLOSE_TIMEOUT_MS = 2_000;
const INVALIDATION_POLL_MS = 1_000;

export async function serve(settings: Settings, logger: Logger): Promise<number> {
  if (settings.masterKey === null) {
    logger.warn(
      'no master key configured (LITELLM_MASTER_KEY or general_settings.master_key): every request is allowed, as LiteLLM does without one',
    );
  }
  const stopLoggingRoundTrips = logRoundTripsOnSignal(logger);
  const redis = openRedis(settings, logger);
  const store = new DeferredAuthStore();
  const jwt = wireJwt(settings, store, logger);
  const alerts = new AlertEmitter({ logger, ...settings.alerting });
  const metering = createMetering(settings, redis?.client ?? null, logger);
  const authorizer = new Authorizer({
    store,
    policy: settings.policy,
    masterKey: settings.masterKey,
    alerts,
    jwt: jwt.authenticator,
    spendOverlay: metering.spendOverlay,
    admission: metering.admission,
  });
  let runtime: StoreRuntime | null = null;
  let listener: CacheInvalidationListener | null = null;
  let databaseModels: DatabaseModelRefresh | null = null;
  let stopping = false;
  let serving = false;

  const telemetry = await startTelemetry(settings, logger);
  // Under `--workers N` the primary owns the ops port and sums the workers' metrics.
  const ops: OpsServer | null = isClusterWorker()
    ? null
    : await startOpsServer(settings.httpAddr, {
        metrics: () => telemetry.metrics.scrape(),
        notReadyReason: () => (stopping ? 'shutting down' : serving ? null : 'store not connected'),
      });
  if (ops === null) exposeMetricsToPrimary(telemetry.metrics.registry);
  const inFlight = new Admission(settings.maxInFlight);
  telemetry.metrics.watchAdmission(inFlight);
  const grpc = await startGrpcServer(
    settings.grpcAddr,
    createCheckHandler({
      settings,
      authorizer,
      logger,
      instrumentation: telemetry.instrumentation,
      admission: inFlight,
      onDecision: metering.onDecision,
      onDiscardedDecision: metering.onDiscardedDecision,
    }),
    { process: metering.process },
  );
  logger.info({ grpcPort: grpc.port, httpPort: ops?.port, store: settings.databaseUrl === null ? 'sqlite' : 'mysql', redis: redis !== null }, 'listening');

  const connected = (async () => {
    while (!stopping) {
      let attempt: StoreRuntime | null = null;
      try {
        const opened = await openStore(settings, redis, telemetry.cacheEvents, telemetry.calls);
        attempt = opened;
        await opened.store.ping();
        if (settings.databaseModels.enabled) {
          databaseModels = new DatabaseModelRefresh({
            read: () => readDatabaseModelList(opened.dataSource, settings.dbTimeoutMs, settings.saltKey),
            apply: (models) => {
              authorizer.usePolicy(withDatabaseModels(settings.policy, models));
              metering.useDatabaseModels(models);
            },
            refreshMs: settings.databaseModels.refreshMs,
            logger,
          });
          // Before SERVING: a replica without them would refuse callers their access groups admit.
          await databaseModels.start();
        }
        listener = new CacheInvalidationListener(opened.store, opened.counter, redis?.bus ?? null, INVALIDATION_POLL_MS, {
          dropped: () => undefined,
          clearedAll: (reason) => logger.debug({ reason }, 'cache cleared by invalidation'),
          pollFailed: (error) => logger.debug({ err: String(error) }, 'invalidation poll failed'),
        });
        await listener.start();
        runtime = opened;
        store.connect(opened.store);
        metering.start(opened.dataSource);
        // This process's and the shared tier's "no mapping" only: announced to every replica, each
        // registration would bump the generation counter, which without Redis makes every replica
        // drop its whole cache. Another replica's cached answer ages out within the negative TTL,
        // and meanwhile its registration finds the mapping with one read.
        jwt.connect(opened.dataSource, (claimName, claimValue) => opened.store.invalidate('jwt_key_mapping', jwtKeyMappingId(claimName, claimValue)));
        grpc.setHealth('SERVING');
        serving = true;
        logger.info('store connected: serving');
        reportServing();
        return;
      } catch (error) {
        // Each attempt opens its own pool: one that failed part-way is closed, not left behind,
        // with what was started on it.
        databaseModels?.stop();
        databaseModels = null;
        await listener?.stop().catch(() => undefined);
        listener = null;
        if (runtime === attempt) runtime = null;
        if (attempt !== null) await attempt.dataSource.destroy().catch(() => undefined);
        logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'store not reachable yet; retrying');
        await new Promise((resolve) => setTimeout(resolve, CONNECT_RETRY_MS));
      }
    }
  })();

  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });

  stopping = true;
  grpc.setHealth('NOT_SERVING');
  await grpc.shutdown(SHUTDOWN_GRACE_MS);
  await connected;
  (databaseModels as DatabaseModelRefresh | null)?.stop();
  const openListener = listener as CacheInvalidationListener | null;
  const openRuntime = runtime as StoreRuntime | null;
  if (openListener !== null) await openListener.stop();
  await metering.stop(); // an unfinished batch stays queued for the next start or another replica
  // A pool whose database hangs would wait forever for its connections to say goodbye.
  if (openRuntime !== null) {
    await withTimeout(openRuntime.dataSource.destroy(), POOL_CLOSE_TIMEOUT_MS, 'closing the database pool').catch(
      () => undefined,
    );
  }
  await withTimeout(closeRedis(redis), POOL_CLOSE_TIMEOUT_MS, 'closing redis').catch(() => undefined);
  await ops?.close();
  await telemetry.shutdown();
  stopLoggingRoundTrips();
  await alerts.close(ALERT_FLUSH_MS);
  logger.info('stopped');
  return 0;
}
