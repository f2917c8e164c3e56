/**
 * One shape for a finished span, whether it came from the in-memory exporter or was decoded
 * from an OTLP export, so the same assertions apply to both.
 */
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

export type AttributeValue = string | number | boolean | readonly (string | number | boolean)[];

export interface SpanView {
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  /** OTLP numbering: 2 = SERVER, 3 = CLIENT, 1 = INTERNAL. */
  readonly kind: number;
  /** 0 unset, 1 ok, 2 error. */
  readonly statusCode: number;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly events: readonly { readonly name: string; readonly attributes: Readonly<Record<string, AttributeValue>> }[];
}

function plain(attributes: ReadableSpan['attributes']): Record<string, AttributeValue> {
  const result: Record<string, AttributeValue> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) result[key] = value as AttributeValue;
  }
  return result;
}

export function viewOf(span: ReadableSpan): SpanView {
  return {
    name: span.name,
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? '',
    // The API numbers kinds from INTERNAL = 0; OTLP from UNSPECIFIED = 0, INTERNAL = 1.
    kind: span.kind + 1,
    statusCode: span.status.code,
    attributes: plain(span.attributes),
    events: span.events.map((event) => ({ name: event.name, attributes: plain(event.attributes ?? {}) })),
  };
}

/** Every string in the spans (names, attribute keys and values, event names), for leak scans. */
export function allText(spans: readonly SpanView[]): string {
  return JSON.stringify(spans);
}

export function only(spans: readonly SpanView[], name: string): SpanView {
  const found = spans.filter((span) => span.name === name);
  if (found.length !== 1) throw new Error(`expected one span named ${name}, found ${found.length}: ${spans.map((s) => s.name).join(', ')}`);
  return found[0] as SpanView;
}
