/** The shape every traced Check has, whichever exporter carried its spans. */
import { expect } from 'chai';
import { CHECK_SPAN_NAME } from '../../../src/observability/trace-telemetry';
import { only, type SpanView } from './span-view';

/** Checks the whole shape of one traced Check and returns its root span. */
export function expectCheckTrace(spans: readonly SpanView[], traceId: string, parentSpanId: string): SpanView {
  const root = only(spans, CHECK_SPAN_NAME);
  expect(root.traceId).to.equal(traceId);
  expect(root.parentSpanId, 'continues the span Envoy sent').to.equal(parentSpanId);
  expect(root.kind, 'SERVER').to.equal(2);
  expect(root.attributes['rpc.system']).to.equal('grpc');
  for (const span of spans) expect(span.traceId, span.name).to.equal(traceId);
  const phases = spans.filter((s) => s.name.startsWith('tollgate.'));
  for (const phase of phases) expect(phase.parentSpanId, phase.name).to.equal(root.spanId);
  return root;
}
