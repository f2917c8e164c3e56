/**
 * Builds the OpenTelemetry tracer from TracingConfig. Returns null when no exporter is
 * configured, so the request path keeps the no-op instrumentation and pays nothing.
 *
 * The provider is not registered as the global one: Tollgate's own spans are the whole trace
 * here, and a global provider would let libraries that emit spans on their own (the Redis
 * client does when one is registered) add duplicates. Only the context manager is global,
 * because async context must follow a Check into the store wrappers.
 */
import { context, diag, DiagLogLevel, type Sampler, type TextMapPropagator } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { B3Propagator } from '@opentelemetry/propagator-b3';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { withTimeout } from '../util/timeout';
import type { BackendCallObserver } from './backend-calls';
import type { Instrumentation } from './instrumentation';
import type { TracingConfig } from './otel-config';
import { TracingBackendCalls, TracingInstrumentation } from './trace-telemetry';

export interface Tracing {
  readonly instrumentation: Instrumentation;
  readonly calls: BackendCallObserver;
  /** Exports what is still queued, then stops; bounded so shutdown never hangs on a dead collector. */
  shutdown(timeoutMs?: number): Promise<void>;
}

export interface TracingOptions {
  readonly dbSystem: 'mysql' | 'sqlite';
  /** Replaces the configured exporter and exports each span at once (tests). */
  readonly exporter?: SpanExporter;
  /** Export failures and SDK warnings (the SDK is silent otherwise). */
  readonly onDiagnostic?: (message: string) => void;
}

function samplerFor(config: TracingConfig['sampler']): Sampler {
  switch (config.name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(config.ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.ratio) });
  }
}

export function propagatorFor(names: TracingConfig['propagators']): TextMapPropagator {
  const propagators: TextMapPropagator[] = [];
  if (names.includes('tracecontext')) propagators.push(new W3CTraceContextPropagator());
  // One B3Propagator extracts both the single `b3` header and the X-B3-* set.
  if (names.includes('b3') || names.includes('b3multi')) propagators.push(new B3Propagator());
  return new CompositePropagator({ propagators });
}

function exporterFor(config: TracingConfig): SpanExporter | null {
  switch (config.exporter) {
    case null:
      return null;
    case 'console':
      return new ConsoleSpanExporter();
    case 'otlp': {
      const options = { url: config.otlp.url, headers: { ...config.otlp.headers }, timeoutMillis: config.otlp.timeoutMs };
      return config.otlp.protocol === 'http/json' ? new OtlpJsonExporter(options) : new OtlpProtobufExporter(options);
    }
  }
}

let contextManagerInstalled = false;

function installContextManager(): void {
  if (contextManagerInstalled) return;
  // false when another SDK in the process already installed one; that one works as well.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  contextManagerInstalled = true;
}

export function startTracing(config: TracingConfig, options: TracingOptions): Tracing | null {
  const exporter = options.exporter ?? exporterFor(config);
  if (exporter === null) return null;
  if (options.onDiagnostic !== undefined) {
    const report = options.onDiagnostic;
    const ignore = (): void => undefined;
    diag.setLogger(
      { error: (message) => report(message), warn: (message) => report(message), info: ignore, debug: ignore, verbose: ignore },
      DiagLogLevel.WARN,
    );
  }
  installContextManager();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ ...config.resourceAttributes, [ATTR_SERVICE_NAME]: config.serviceName }),
    sampler: samplerFor(config.sampler),
    // Batching keeps export off the request path; tests want each span the moment it ends.
    spanProcessors: [options.exporter !== undefined ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('tollgate');
  return {
    instrumentation: new TracingInstrumentation(tracer, propagatorFor(config.propagators)),
    calls: new TracingBackendCalls(tracer, options.dbSystem),
    shutdown: (timeoutMs = 5_000) => withTimeout(provider.shutdown(), timeoutMs, 'trace export at shutdown').catch(() => undefined),
  };
}
