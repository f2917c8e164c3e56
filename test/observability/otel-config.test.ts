/** OTEL_* variables → TracingConfig: the standard meanings, and what Tollgate does differently. */
import { expect } from 'chai';
import { tracingConfigFrom } from '../../src/observability/otel-config';

describe('tracing configuration from the standard OTEL_* variables', () => {
  it('is off when no exporter and no endpoint is configured (no spans sent to a collector nobody runs)', () => {
    const config = tracingConfigFrom({});
    expect(config.exporter).to.equal(null);
  });

  it('turns on OTLP when only an endpoint is set, appending /v1/traces to the generic one', () => {
    const config = tracingConfigFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' });
    expect(config.exporter).to.equal('otlp');
    expect(config.otlp.url).to.equal('http://collector:4318/v1/traces');
    expect(config.otlp.protocol, 'the specification default').to.equal('http/protobuf');
  });

  it('uses the traces endpoint as is, and signal-specific settings before generic ones', () => {
    const config = tracingConfigFrom({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:4318/custom/path',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=a,authorization=Basic%20abc',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-tenant=b',
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '2500',
    });
    expect(config.otlp).to.deep.equal({
      protocol: 'http/json',
      url: 'http://traces:4318/custom/path',
      headers: { 'x-tenant': 'b', authorization: 'Basic abc' },
      timeoutMs: 2500,
    });
  });

  it('honours OTEL_TRACES_EXPORTER=none and OTEL_SDK_DISABLED=true over an endpoint', () => {
    expect(tracingConfigFrom({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).exporter).to.equal(null);
    expect(tracingConfigFrom({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }).exporter).to.equal(null);
    expect(tracingConfigFrom({ OTEL_TRACES_EXPORTER: 'console' }).exporter).to.equal('console');
  });

  it('names the service from OTEL_SERVICE_NAME, else OTEL_RESOURCE_ATTRIBUTES, else "tollgate"', () => {
    expect(tracingConfigFrom({}).serviceName).to.equal('tollgate');
    const fromResource = tracingConfigFrom({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=gw-authz,deployment.environment=prod' });
    expect(fromResource.serviceName).to.equal('gw-authz');
    expect(fromResource.resourceAttributes).to.deep.equal({ 'service.name': 'gw-authz', 'deployment.environment': 'prod' });
    expect(tracingConfigFrom({ OTEL_SERVICE_NAME: 'edge', OTEL_RESOURCE_ATTRIBUTES: 'service.name=x' }).serviceName).to.equal('edge');
  });

  it('defaults to parentbased_always_on, so Envoy’s sampling decision is followed', () => {
    expect(tracingConfigFrom({}).sampler).to.deep.equal({ name: 'parentbased_always_on', ratio: 1 });
    expect(tracingConfigFrom({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }).sampler).to.deep.equal({
      name: 'parentbased_traceidratio',
      ratio: 0.25,
    });
  });

  it('extracts tracecontext and b3 unless OTEL_PROPAGATORS says otherwise (Envoy and Istio send b3)', () => {
    expect(tracingConfigFrom({}).propagators).to.deep.equal(['tracecontext', 'b3']);
    expect(tracingConfigFrom({ OTEL_PROPAGATORS: 'tracecontext,baggage' }).propagators).to.deep.equal(['tracecontext']);
    expect(tracingConfigFrom({ OTEL_PROPAGATORS: 'b3multi' }).propagators).to.deep.equal(['b3multi']);
    expect(tracingConfigFrom({ OTEL_PROPAGATORS: 'none' }).propagators).to.deep.equal([]);
  });

  it('warns about values it cannot use instead of refusing to start', () => {
    const config = tracingConfigFrom({
      OTEL_TRACES_EXPORTER: 'zipkin',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_TRACES_SAMPLER: 'sometimes',
      OTEL_TRACES_SAMPLER_ARG: '7',
      OTEL_PROPAGATORS: 'xray,tracecontext',
    });
    expect(config.exporter).to.equal(null);
    expect(config.otlp.protocol).to.equal('http/protobuf');
    expect(config.sampler).to.deep.equal({ name: 'parentbased_always_on', ratio: 1 });
    expect(config.propagators).to.deep.equal(['tracecontext']);
    expect(config.warnings).to.have.length(5);
    expect(config.warnings.join('\n')).to.match(/zipkin/).and.match(/grpc/).and.match(/sometimes/).and.match(/xray/);
  });

  it('names a malformed header entry by position, never by its text (it may be a credential)', () => {
    const config = tracingConfigFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_HEADERS: 'x-team=a,Authorization Bearer sk-secret' });
    expect(config.warnings).to.deep.equal(['OTEL_EXPORTER_OTLP_HEADERS: ignoring entry 2 (expected key=value)']);
  });
});
