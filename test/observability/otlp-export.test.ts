/**
 * The configured OTLP/HTTP exporter, end to end inside the process: a Check's spans reach a
 * receiver on 127.0.0.1, in protobuf (the default) or JSON, with the service name, the
 * configured headers, and the trace Envoy started.
 */
import { expect } from 'chai';
import { hashKey } from '../../src/auth/key-hash';
import { tracingConfigFrom } from '../../src/observability/otel-config';
import { startTracing } from '../../src/observability/tracing';
import { aKey } from '../checks/fixtures';
import { anEnvoyCheck, chat } from '../support/envoy-requests';
import { expectCheckTrace } from './support/check-trace';
import { startOtlpReceiver, type OtlpReceiver } from './support/otlp-receiver';
import { aHarness } from './support/traced-handler';

const RAW = 'sk-otlp-key-0123456789';
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const ENVOY_SPAN_ID = 'b7ad6b7169203331';

describe('OTLP/HTTP export to a collector', () => {
  let receiver: OtlpReceiver;

  beforeEach(async () => {
    receiver = await startOtlpReceiver();
  });
  afterEach(() => receiver.close());

  for (const protocol of ['http/protobuf', 'http/json'] as const) {
    it(`exports a Check's spans as ${protocol}, parented to Envoy's span`, async () => {
      const tracing = startTracing(
        tracingConfigFrom({
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
          OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
          OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-tenant=gateway',
          OTEL_SERVICE_NAME: 'tollgate-under-test',
        }),
        { dbSystem: 'mysql' },
      );
      if (tracing === null) throw new Error('tracing should be on');
      const harness = aHarness(tracing);
      harness.store.keys.set(hashKey(RAW), aKey({ token: hashKey(RAW) }));
      await harness.check(
        anEnvoyCheck({ key: RAW, body: chat('gpt-4o'), headers: { traceparent: `00-${TRACE_ID}-${ENVOY_SPAN_ID}-01` } }),
      );
      await tracing.shutdown(); // flushes the batch processor

      const spans = await receiver.waitFor((received) => received.some((s) => s.name === 'mysql findKey'));
      expectCheckTrace(spans, TRACE_ID, ENVOY_SPAN_ID);
      expect(receiver.exports[0]?.contentType).to.include(protocol === 'http/json' ? 'application/json' : 'application/x-protobuf');
      expect(receiver.exports[0]?.resource['service.name']).to.equal('tollgate-under-test');
      expect(receiver.requests[0]?.path).to.equal('/v1/traces');
      expect(receiver.requests[0]?.headers['x-collector-tenant']).to.equal('gateway');
      expect(JSON.stringify(spans)).not.to.include(RAW);
    });
  }
});
