/**
 * The ext_proc wiring in envoy/front-proxy.yaml (decoded against Envoy's protos by the deploy
 * support): what metering needs from Envoy, and what it must never do to a request.
 */
import { expect } from 'chai';
import { connectionManagers, decodeEnvoyFile, filterConfigs, httpFilters, routes, typeOf, EXT_AUTHZ, ROUTER } from '../deploy/support/envoy-config';
import { asObject, dig, isObject } from '../deploy/support/json';

const EXT_PROC = 'envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor';
const EXT_PROC_PER_ROUTE = 'envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute';

function extProcOverride(route: Record<string, unknown>): Record<string, unknown> | undefined {
  const override = dig(route, 'typed_per_filter_config');
  if (!isObject(override)) return undefined;
  const config = override['envoy.filters.http.ext_proc'];
  return typeOf(config) === EXT_PROC_PER_ROUTE ? asObject(config, 'ExtProcPerRoute') : undefined;
}

describe('metering: Envoy wires ext_proc to Tollgate (envoy/front-proxy.yaml)', () => {
  const { hcm } = connectionManagers(decodeEnvoyFile('envoy/front-proxy.yaml').tree)[0];
  const extProc = () => filterConfigs(hcm, EXT_PROC)[0];

  it('runs after ext_authz (only checked requests are metered) and before the router', () => {
    const types = httpFilters(hcm).map((f) => typeOf(f.typed_config));
    expect(types.indexOf(EXT_PROC)).to.be.greaterThan(types.indexOf(EXT_AUTHZ));
    expect(types.indexOf(EXT_PROC)).to.be.lessThan(types.indexOf(ROUTER));
  });

  it('streams response headers and body chunk by chunk to the tollgate cluster, with the request headers', () => {
    expect(dig(extProc(), 'grpc_service.envoy_grpc.cluster_name')).to.equal('tollgate');
    expect(dig(extProc(), 'processing_mode')).to.include({
      request_header_mode: 'SEND',
      response_header_mode: 'SEND',
      request_body_mode: 'NONE',
      response_body_mode: 'STREAMED',
    });
  });

  it("forwards ext_authz's dynamic metadata, so any replica can attribute the spend", () => {
    expect(dig(extProc(), 'metadata_options.forwarding_namespaces.untyped')).to.deep.equal(['envoy.filters.http.ext_authz']);
  });

  it('never fails or delays a response because of metering', () => {
    expect(extProc().failure_mode_allow).to.equal(true);
    expect(extProc().observability_mode).to.equal(true);
  });

  it('is off where there is nothing to meter (local answers, file bodies) and asks inference upstreams for uncompressed bodies', () => {
    for (const route of routes(hcm)) {
      const off = extProcOverride(route)?.disabled === true;
      if (route.direct_response !== undefined || /files|uploads/.test(String(route.name))) {
        expect(off, `${String(route.name)} not metered`).to.equal(true);
      } else {
        expect(off, `${String(route.name)} metered`).to.equal(false);
        expect(route.request_headers_to_remove, String(route.name)).to.include('accept-encoding');
      }
    }
  });

  it('is not wired in the Kubernetes sidecar, whose LiteLLM upstream records spend itself', () => {
    for (const { hcm: sidecar } of connectionManagers(decodeEnvoyFile('deploy/base/envoy.yaml').tree)) {
      expect(filterConfigs(sidecar, EXT_PROC)).to.have.length(0);
    }
  });
});
