/**
 * A stand-in OpenTelemetry collector on 127.0.0.1: accepts OTLP/HTTP trace exports
 * (protobuf or JSON), decodes them and keeps the spans for assertions.
 *
 * The protobuf schema below is the subset of opentelemetry-proto's trace.proto and common.proto
 * that Tollgate's spans use, with the upstream field numbers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as protobuf from 'protobufjs';
import type { AttributeValue, SpanView } from './span-view';

const OTLP_TRACE_PROTO = `
syntax = "proto3";
package otlp;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
message InstrumentationScope { string name = 1; string version = 2; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4;
  string name = 5; int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; repeated Event events = 11; Status status = 15;
}
message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; }
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; ArrayValue array_value = 5; }
}
message ArrayValue { repeated AnyValue values = 1; }
`;

const ExportRequest = protobuf.parse(OTLP_TRACE_PROTO, { keepCase: false }).root.lookupType('otlp.ExportTraceServiceRequest');

/** The decoded export, as protobufjs's toObject or OTLP/JSON gives it (camelCase fields). */
interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  attributes?: OtlpKeyValue[];
  events?: { name: string; attributes?: OtlpKeyValue[] }[];
  status?: { code?: number };
}
interface OtlpExport {
  resourceSpans?: { resource?: { attributes?: OtlpKeyValue[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

function scalar(value: OtlpAnyValue | undefined): AttributeValue {
  if (value === undefined) return '';
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  return (value.arrayValue?.values ?? []).map((item) => scalar(item) as string | number | boolean);
}

function attributes(list: OtlpKeyValue[] | undefined): Record<string, AttributeValue> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, scalar(kv.value)]));
}

export interface ReceivedExport {
  readonly contentType: string;
  readonly resource: Readonly<Record<string, AttributeValue>>;
  readonly spans: readonly SpanView[];
}

function decode(contentType: string, body: Buffer): ReceivedExport[] {
  const decoded: OtlpExport = contentType.includes('json')
    ? (JSON.parse(body.toString('utf8')) as OtlpExport)
    : (ExportRequest.toObject(ExportRequest.decode(body), { longs: String, bytes: String, defaults: false }) as OtlpExport);
  // protobufjs renders bytes as base64, OTLP/JSON uses hex: normalise ids to hex.
  const id = (raw: string | undefined): string =>
    raw === undefined || raw === '' ? '' : contentType.includes('json') ? raw : Buffer.from(raw, 'base64').toString('hex');
  return (decoded.resourceSpans ?? []).map((resourceSpans) => ({
    contentType,
    resource: attributes(resourceSpans.resource?.attributes),
    spans: (resourceSpans.scopeSpans ?? []).flatMap((scope) =>
      (scope.spans ?? []).map((span) => ({
        name: span.name,
        traceId: id(span.traceId),
        spanId: id(span.spanId),
        parentSpanId: id(span.parentSpanId),
        kind: span.kind ?? 0,
        statusCode: span.status?.code ?? 0,
        attributes: attributes(span.attributes),
        events: (span.events ?? []).map((event) => ({ name: event.name, attributes: attributes(event.attributes) })),
      })),
    ),
  }));
}

export interface OtlpReceiver {
  /** e.g. http://127.0.0.1:43123 — use as OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly endpoint: string;
  readonly exports: ReceivedExport[];
  readonly requests: { path: string; headers: Record<string, string | string[] | undefined> }[];
  spans(): SpanView[];
  /** Resolves once `predicate` holds for the spans received so far. */
  waitFor(predicate: (spans: SpanView[]) => boolean, timeoutMs?: number): Promise<SpanView[]>;
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const exports: ReceivedExport[] = [];
  const requests: OtlpReceiver['requests'] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({ path: request.url ?? '', headers: request.headers });
      const contentType = request.headers['content-type'] ?? '';
      try {
        if (request.url === '/v1/traces') exports.push(...decode(contentType, Buffer.concat(chunks)));
        // An empty ExportTraceServiceResponse: zero bytes in protobuf, {} in JSON.
        response.writeHead(request.url === '/v1/traces' ? 200 : 404, { 'content-type': contentType || 'application/json' });
        response.end(contentType.includes('json') ? '{}' : '');
      } catch (error) {
        response.writeHead(400);
        response.end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const spans = (): SpanView[] => exports.flatMap((e) => e.spans);
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exports,
    requests,
    spans,
    async waitFor(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(spans())) {
        if (Date.now() > deadline) throw new Error(`spans not received in time; got: ${spans().map((s) => s.name).join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return spans();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
