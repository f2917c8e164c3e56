/**
 * Everything `tollgate serve` observes itself with, built once from settings: Prometheus
 * metrics always (they cost a few counter increments per Check), OpenTelemetry traces only
 * when an exporter is configured.
 */
import type { CacheEvents } from '../cache/entity-cache';
import type { Settings } from '../config/settings';
import { combineObservers, type BackendCallObserver } from './backend-calls';
import { combineInstrumentation } from './combine';
import type { Instrumentation } from './instrumentation';
import { safeUrl, type Logger } from './logger';
import { TollgateMetrics } from './metrics';
import type { Tracing } from './tracing';

export interface ServerTelemetry {
  readonly metrics: TollgateMetrics;
  readonly instrumentation: Instrumentation;
  readonly cacheEvents: CacheEvents;
  readonly calls: BackendCallObserver;
  /** Flushes queued spans (bounded). */
  shutdown(): Promise<void>;
}

/** One line per SDK complaint every 10 s at most: a dead collector fails every batch. */
function throttled(logger: Logger): (message: string) => void {
  let last = 0;
  return (message) => {
    if (Date.now() - last < 10_000) return;
    last = Date.now();
    logger.warn({ otel: message }, 'trace export problem');
  };
}

export async function startTelemetry(settings: Settings, logger: Logger): Promise<ServerTelemetry> {
  for (const warning of settings.tracing.warnings) logger.warn({ otel: warning }, 'tracing setting ignored');
  const metrics = new TollgateMetrics();
  // The SDK and its exporters are loaded only when tracing is on: they add a quarter of a second
  // of CPU to every start of the process, CLI commands included.
  const tracing: Tracing | null =
    settings.tracing.exporter === null
      ? null
      : (await import('./tracing')).startTracing(settings.tracing, {
          dbSystem: settings.databaseUrl === null ? 'sqlite' : 'mysql',
          onDiagnostic: throttled(logger),
        });
  if (tracing !== null) {
    logger.info(
      {
        exporter: settings.tracing.exporter,
        endpoint: settings.tracing.exporter === 'otlp' ? safeUrl(settings.tracing.otlp.url) : undefined,
        sampler: settings.tracing.sampler.name,
        propagators: settings.tracing.propagators,
      },
      'tracing on',
    );
  }
  return {
    metrics,
    // Metrics first: its latency sample then includes the tracing work, as Envoy sees it.
    instrumentation: combineInstrumentation(tracing === null ? [metrics.instrumentation] : [metrics.instrumentation, tracing.instrumentation]),
    cacheEvents: metrics.cacheEvents,
    calls: combineObservers(tracing === null ? [metrics.calls] : [metrics.calls, tracing.calls]),
    shutdown: async () => tracing?.shutdown(),
  };
}
