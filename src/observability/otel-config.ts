/**
 * Tracing settings from OpenTelemetry's standard environment variables
 * (opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables). Parsed once at
 * startup from the env that settings.ts hands over; nothing here reads process.env.
 *
 * Two deliberate departures from the SDK defaults, both so that a sidecar nobody configured
 * for tracing pays nothing and sends nothing:
 * - tracing is on only when an exporter is asked for (OTEL_TRACES_EXPORTER=otlp|console) or an
 *   OTLP endpoint is set; the SDK would otherwise export to localhost:4318 by default;
 * - b3 is extracted besides W3C tracecontext unless OTEL_PROPAGATORS says otherwise, because
 *   Envoy's and Istio's Zipkin tracers send b3 headers. Extraction only: Tollgate makes no
 *   outgoing request that would carry the context on.
 *
 * The OTLP exporter itself also honours the variables not parsed here (…_COMPRESSION, the TLS
 * certificate files), so every standard OTLP setting works.
 */

export type TraceExporterKind = 'otlp' | 'console';
export type OtlpProtocol = 'http/protobuf' | 'http/json';
export type PropagatorName = 'tracecontext' | 'b3' | 'b3multi';
export type SamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

export interface OtlpSettings {
  readonly protocol: OtlpProtocol;
  /** The full traces URL (…/v1/traces). */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

export interface TracingConfig {
  /** null → tracing off: the request path keeps the no-op instrumentation. */
  readonly exporter: TraceExporterKind | null;
  readonly otlp: OtlpSettings;
  readonly serviceName: string;
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly sampler: { readonly name: SamplerName; readonly ratio: number };
  readonly propagators: readonly PropagatorName[];
  /** Values that were ignored, for one startup warning each (a typo must not stop the server). */
  readonly warnings: readonly string[];
}

type Env = Readonly<Record<string, string | undefined>>;

const DEFAULT_OTLP_BASE = 'http://localhost:4318';
const DEFAULT_TIMEOUT_MS = 10_000;
const SAMPLERS: readonly SamplerName[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

function value(env: Env, name: string): string | null {
  const raw = env[name];
  return raw !== undefined && raw.trim() !== '' ? raw.trim() : null;
}

/** `k1=v1,k2=v2` with percent-encoded values (OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS). */
export function parseKeyValueList(raw: string | null, warnings: string[], variable: string): Record<string, string> {
  const result: Record<string, string> = {};
  if (raw === null) return result;
  for (const [index, part] of raw.split(',').entries()) {
    const at = part.indexOf('=');
    const key = at > 0 ? part.slice(0, at).trim() : '';
    if (key === '') {
      // Named by position only: a malformed header entry is often a credential (`Authorization Bearer …`).
      if (part.trim() !== '') warnings.push(`${variable}: ignoring entry ${index + 1} (expected key=value)`);
      continue;
    }
    try {
      result[key] = decodeURIComponent(part.slice(at + 1).trim());
    } catch {
      result[key] = part.slice(at + 1).trim();
    }
  }
  return result;
}

function exporterFrom(env: Env, warnings: string[]): TraceExporterKind | null {
  if (value(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return null;
  const requested = value(env, 'OTEL_TRACES_EXPORTER');
  if (requested === null) {
    const endpointSet = value(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? value(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
    return endpointSet === null ? null : 'otlp';
  }
  // The variable is a list; one exporter is enough for a sidecar, the first supported one wins.
  for (const name of requested.toLowerCase().split(',').map((n) => n.trim())) {
    if (name === 'none') return null;
    if (name === 'otlp' || name === 'console') return name;
    warnings.push(`OTEL_TRACES_EXPORTER: unsupported exporter "${name}" ignored (otlp, console, none)`);
  }
  return null;
}

function otlpFrom(env: Env, warnings: string[]): OtlpSettings {
  const rawProtocol = (value(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? value(env, 'OTEL_EXPORTER_OTLP_PROTOCOL'))?.toLowerCase();
  let protocol: OtlpProtocol = 'http/protobuf';
  if (rawProtocol === 'http/json') protocol = 'http/json';
  else if (rawProtocol !== undefined && rawProtocol !== 'http/protobuf') {
    warnings.push(`OTEL_EXPORTER_OTLP_PROTOCOL: "${rawProtocol}" is not supported, using http/protobuf`);
  }
  // The signal-specific endpoint is used as is; the generic one is a base that gets /v1/traces.
  const tracesEndpoint = value(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const base = (value(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') ?? DEFAULT_OTLP_BASE).replace(/\/+$/, '');
  const headers = {
    ...parseKeyValueList(value(env, 'OTEL_EXPORTER_OTLP_HEADERS'), warnings, 'OTEL_EXPORTER_OTLP_HEADERS'),
    ...parseKeyValueList(value(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'), warnings, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'),
  };
  const rawTimeout = value(env, 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT') ?? value(env, 'OTEL_EXPORTER_OTLP_TIMEOUT');
  const timeout = rawTimeout === null ? DEFAULT_TIMEOUT_MS : Number(rawTimeout);
  if (rawTimeout !== null && !(timeout > 0)) warnings.push(`OTEL_EXPORTER_OTLP_TIMEOUT: "${rawTimeout}" is not a positive number`);
  return {
    protocol,
    url: tracesEndpoint ?? `${base}/v1/traces`,
    headers,
    timeoutMs: timeout > 0 ? timeout : DEFAULT_TIMEOUT_MS,
  };
}

function samplerFrom(env: Env, warnings: string[]): { name: SamplerName; ratio: number } {
  const raw = value(env, 'OTEL_TRACES_SAMPLER')?.toLowerCase() ?? 'parentbased_always_on';
  const name = SAMPLERS.find((s) => s === raw);
  if (name === undefined) warnings.push(`OTEL_TRACES_SAMPLER: unsupported sampler "${raw}", using parentbased_always_on`);
  const rawArg = value(env, 'OTEL_TRACES_SAMPLER_ARG');
  const ratio = rawArg === null ? 1 : Number(rawArg);
  const validRatio = Number.isFinite(ratio) && ratio >= 0 && ratio <= 1;
  if (rawArg !== null && !validRatio) warnings.push(`OTEL_TRACES_SAMPLER_ARG: "${rawArg}" is not a ratio in [0, 1], using 1`);
  return { name: name ?? 'parentbased_always_on', ratio: validRatio ? ratio : 1 };
}

function propagatorsFrom(env: Env, warnings: string[]): PropagatorName[] {
  const raw = value(env, 'OTEL_PROPAGATORS');
  if (raw === null) return ['tracecontext', 'b3'];
  const names: PropagatorName[] = [];
  for (const name of raw.toLowerCase().split(',').map((n) => n.trim())) {
    if (name === 'none') return [];
    if (name === 'tracecontext' || name === 'b3' || name === 'b3multi') names.push(name);
    // Baggage is accepted silently: nothing here forwards it, so there is nothing to extract it for.
    else if (name !== 'baggage' && name !== '') warnings.push(`OTEL_PROPAGATORS: unsupported propagator "${name}" ignored`);
  }
  return names;
}

export function tracingConfigFrom(env: Env): TracingConfig {
  const warnings: string[] = [];
  const resourceAttributes = parseKeyValueList(value(env, 'OTEL_RESOURCE_ATTRIBUTES'), warnings, 'OTEL_RESOURCE_ATTRIBUTES');
  return {
    exporter: exporterFrom(env, warnings),
    otlp: otlpFrom(env, warnings),
    serviceName: value(env, 'OTEL_SERVICE_NAME') ?? resourceAttributes['service.name'] ?? 'tollgate',
    resourceAttributes,
    sampler: samplerFrom(env, warnings),
    propagators: propagatorsFrom(env, warnings),
    warnings,
  };
}
