/**
 * What our Envoy configs must say, beyond being valid: the ext_authz contract with Tollgate
 * (spec/envoy-ext-authz.md §4, field-notes §5–§8) and the wiring between filters, routes and clusters.
 */
import { expect } from 'chai';
import {
  CREDENTIAL_INJECTOR,
  DEFAULT_BUFFER_LIMIT_BYTES,
  EXT_AUTHZ,
  HTTP_PROTOCOL_OPTIONS,
  ROUTER,
  UPSTREAM_TLS,
  allStrings,
  cluster,
  clusters,
  connectionManagers,
  decodeEnvoyFile,
  durationMs,
  envoyConfigFiles,
  extAuthzOverride,
  filterConfigs,
  httpFilters,
  protocolOptions,
  referencedClusters,
  routes,
  singleEndpoint,
  typeOf,
} from './support/envoy-config';
import { asObject, dig, objectsAt } from './support/json';

/** The identity fields Tollgate emits as dynamic metadata (spec/README.md §3). */
const METADATA_FIELDS = [
  'key_hash',
  'key_alias',
  'user_id',
  'team_id',
  'org_id',
  'project_id',
  'end_user_id',
  'user_role',
  'model',
];

/** Access-log command operators that exist only when their formatter extension is configured. */
const EXTENSION_OPERATORS: Readonly<Record<string, string>> = {
  '%REQ_WITHOUT_QUERY(': 'envoy.extensions.formatter.req_without_query.v3.ReqWithoutQuery',
  '%CEL(': 'envoy.extensions.formatter.cel.v3.Cel',
};

/** Envoy's ext_authz default timeout, which a cold-cache check can exceed. */
const ENVOY_DEFAULT_AUTHZ_TIMEOUT_MS = 200;

for (const file of envoyConfigFiles()) {
  describe(`deploy: ${file} wires Tollgate as Envoy's authorizer`, () => {
    const tree = () => decodeEnvoyFile(file).tree;
    const managers = () => connectionManagers(tree());

    it('runs ext_authz first and the router last in every HTTP filter chain', () => {
      expect(managers()).to.have.length.greaterThan(0);
      for (const { hcm } of managers()) {
        const types = httpFilters(hcm).map((f) => typeOf(f.typed_config));
        expect(types.filter((t) => t === EXT_AUTHZ)).to.have.length(1);
        expect(types[0]).to.equal(EXT_AUTHZ);
        expect(types[types.length - 1]).to.equal(ROUTER);
      }
    });

    it('speaks ext_authz v3 over gRPC to the tollgate cluster, failing closed with 503', () => {
      for (const { hcm } of managers()) {
        const authz = filterConfigs(hcm, EXT_AUTHZ)[0];
        expect(authz?.transport_api_version).to.equal('V3');
        expect(dig(authz, 'grpc_service.envoy_grpc.cluster_name')).to.equal('tollgate');
        expect(authz?.http_service, 'gRPC, not the HTTP flavour (no headers_to_remove there)').to.equal(undefined);
        expect(authz?.failure_mode_allow ?? false, 'failure_mode_allow').to.equal(false);
        expect(dig(authz, 'status_on_error.code')).to.equal('ServiceUnavailable');
      }
    });

    it('sets an explicit check timeout above Envoy\'s 200 ms default and at most 1 s', () => {
      for (const { hcm } of managers()) {
        const timeout = durationMs(dig(filterConfigs(hcm, EXT_AUTHZ)[0], 'grpc_service.timeout'));
        expect(timeout).to.be.greaterThan(ENVOY_DEFAULT_AUTHZ_TIMEOUT_MS).and.at.most(1000);
      }
    });

    it('buffers a body prefix for the model without ever answering 413', () => {
      for (const { listener, hcm } of managers()) {
        const body = asObject(dig(filterConfigs(hcm, EXT_AUTHZ)[0], 'with_request_body'), 'with_request_body');
        expect(body.allow_partial_message, 'allow_partial_message').to.equal(true);
        expect(body.pack_as_bytes, 'pack_as_bytes').to.equal(true);
        const limit = Number(dig(listener, 'per_connection_buffer_limit_bytes.value') ?? DEFAULT_BUFFER_LIMIT_BYTES);
        expect(Number(body.max_request_bytes)).to.be.at.least(64 * 1024).and.at.most(limit);
      }
    });

    it('never lets a request reach an upstream without a check: routes that skip ext_authz answer locally', () => {
      for (const { hcm } of managers()) {
        for (const route of routes(hcm)) {
          if (extAuthzOverride(route)?.disabled === true) {
            expect(route.direct_response, `route ${String(route.name)}`).to.be.an('object');
            expect(route.route, `route ${String(route.name)}`).to.equal(undefined);
          }
        }
      }
    });

    it('exempts /healthz from ext_authz and answers it locally', () => {
      for (const { hcm } of managers()) {
        const healthz = routes(hcm).find((r) => dig(r, 'match.path') === '/healthz');
        expect(healthz, '/healthz route').to.not.equal(undefined);
        expect(extAuthzOverride(healthz ?? {})?.disabled).to.equal(true);
        expect(dig(healthz, 'direct_response.status')).to.equal(200);
      }
    });

    it('turns body buffering off only on upload routes, which stay authorized', () => {
      for (const { hcm } of managers()) {
        const unbuffered = routes(hcm).filter((r) => dig(extAuthzOverride(r), 'check_settings.disable_request_body_buffering') === true);
        expect(unbuffered, 'at least one route without buffering').to.have.length.greaterThan(0);
        for (const route of unbuffered) {
          expect(String(route.name)).to.match(/files|uploads/);
          expect(route.route, `${String(route.name)} forwards`).to.be.an('object');
        }
      }
    });

    it('gives forwarding routes a timeout long enough for LLM completions (not Envoy\'s 15 s)', () => {
      for (const { hcm } of managers()) {
        for (const route of routes(hcm).filter((r) => r.route !== undefined)) {
          expect(durationMs(dig(route, 'route.timeout')), String(route.name)).to.be.at.least(300_000);
        }
      }
    });

    it('normalizes paths before routing, so exempt routes cannot be reached by path tricks', () => {
      for (const { hcm } of managers()) {
        expect(dig(hcm, 'normalize_path.value')).to.equal(true);
        expect(hcm.merge_slashes).to.equal(true);
      }
    });

    it("logs Tollgate's dynamic metadata and never the credential", () => {
      for (const { hcm } of managers()) {
        const formats = allStrings(hcm.access_log).join('\n');
        for (const field of METADATA_FIELDS) {
          expect(formats).to.include(`%DYNAMIC_METADATA(envoy.filters.http.ext_authz:${field})%`);
        }
        expect(formats.toLowerCase()).to.not.include('authorization');
        expect(formats.toLowerCase()).to.not.include('api-key');
      }
    });

    it('declares the formatter extensions its access-log command operators need', () => {
      for (const { hcm } of managers()) {
        for (const log of objectsAt(hcm, 'access_log')) {
          const format = dig(log, 'typed_config.log_format');
          const declared = objectsAt(format, 'formatters').map((f) => typeOf(f.typed_config));
          for (const [operator, extension] of Object.entries(EXTENSION_OPERATORS)) {
            if (allStrings(format).some((s) => s.includes(operator))) expect(declared, operator).to.include(extension);
          }
        }
      }
    });

    it('reaches Tollgate on loopback port 9001 over HTTP/2', () => {
      const tollgate = cluster(tree(), 'tollgate');
      expect(singleEndpoint(tollgate)).to.deep.equal({ address: '127.0.0.1', port: 9001 });
      const options = asObject(protocolOptions(tollgate, HTTP_PROTOCOL_OPTIONS), 'HttpProtocolOptions');
      expect(typeOf(options)).to.equal(HTTP_PROTOCOL_OPTIONS);
      expect(dig(options, 'explicit_http_config.http2_protocol_options'), 'explicit HTTP/2').to.be.an('object');
    });

    it('connects to Tollgate faster than it waits for a check', () => {
      const connect = durationMs(cluster(tree(), 'tollgate').connect_timeout);
      for (const { hcm } of managers()) {
        expect(connect).to.be.lessThan(durationMs(dig(filterConfigs(hcm, EXT_AUTHZ)[0], 'grpc_service.timeout')));
      }
    });

    it('refers only to clusters it defines, defines none it does not use, and names each consistently', () => {
      const defined = clusters(tree()).map((c) => String(c.name));
      expect(defined).to.include.members(['tollgate', 'llm_upstream']);
      expect(defined, 'every referenced cluster exists').to.include.members(referencedClusters(tree()));
      expect(referencedClusters(tree()), 'every cluster is used').to.include.members(defined);
      for (const c of clusters(tree())) expect(dig(c, 'load_assignment.cluster_name')).to.equal(c.name);
    });

    it('verifies the certificate and sends SNI on every TLS upstream', () => {
      for (const c of clusters(tree()).filter((x) => typeOf(dig(x, 'transport_socket.typed_config')) === UPSTREAM_TLS)) {
        const tls = asObject(dig(c, 'transport_socket.typed_config'), 'UpstreamTlsContext');
        expect(tls.sni, `${String(c.name)} sni`).to.equal(singleEndpoint(c).address);
        expect(dig(tls, 'common_tls_context.validation_context.trusted_ca'), `${String(c.name)} CA`).to.be.an('object');
        expect(objectsAt(tls, 'common_tls_context.validation_context.match_typed_subject_alt_names')).to.have.length.greaterThan(0);
      }
    });

    it('injects a provider credential only after ext_authz has removed the client key, from a defined secret', () => {
      for (const { hcm } of managers()) {
        const types = httpFilters(hcm).map((f) => typeOf(f.typed_config));
        const injector = types.indexOf(CREDENTIAL_INJECTOR);
        if (injector < 0) continue;
        expect(injector).to.be.greaterThan(types.indexOf(EXT_AUTHZ));
        const secretName = dig(filterConfigs(hcm, CREDENTIAL_INJECTOR)[0], 'credential.typed_config.credential.name');
        const secrets = objectsAt(tree(), 'static_resources.secrets').map((s) => s.name);
        expect(secrets).to.include(secretName);
      }
    });

    it('keeps the admin interface on loopback', () => {
      expect(dig(tree(), 'admin.address.socket_address.address')).to.equal('127.0.0.1');
    });

    it('bounds what an unauthorized client can make Envoy hold: body receipt time, HTTP/2 streams, heap, connections', () => {
      for (const { hcm } of managers()) {
        // The route timeout starts only once the request is in; ext_authz buffers the body before that.
        const receipt = durationMs(hcm.request_timeout);
        expect(receipt).to.be.greaterThan(0).and.at.most(600_000);
        expect(Number(dig(hcm, 'http2_protocol_options.max_concurrent_streams.value') ?? 0)).to.be.within(1, 1000);
      }
      const overload = asObject(dig(tree(), 'overload_manager'), 'overload_manager');
      const monitors = objectsAt(overload, 'resource_monitors').map((m) => m.name);
      expect(monitors).to.include.members(['envoy.resource_monitors.fixed_heap', 'envoy.resource_monitors.global_downstream_max_connections']);
      const actions = objectsAt(overload, 'actions').map((a) => a.name);
      expect(actions).to.include('envoy.overload_actions.stop_accepting_requests');
    });
  });
}
