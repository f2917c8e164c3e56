/**
 * The Istio variant hangs together: the extension provider (mesh-config.yaml) has the shape Istio
 * expects, is the provider the CUSTOM AuthorizationPolicy names, points at the ServiceEntry that is
 * the Tollgate sidecar's loopback address, carries the same timeout and body settings as our Envoy
 * configs, and every path the gateway routes is one the policy sends to Tollgate.
 */
import { expect } from 'chai';
import { EXT_AUTHZ, connectionManagers, decodeEnvoyFile, durationMs, filterConfigs } from './support/envoy-config';
import { extAuthzGrpcProviderProblems } from './support/istio-mesh-config';
import { asArray, asObject, dig, objectsAt, type JsonObject } from './support/json';
import { hasKubectl, kubectlBuild } from './support/kustomize';
import { readManifests } from './support/manifests';
import { container, envValue, hostPort, podLabels, podSpec, selectorMatches, theOne } from './support/workloads';

const ISTIO = 'deploy/istio';

function only(file: string, kind: string): JsonObject {
  const found = readManifests(file).filter((m) => m.doc.kind === kind);
  const [first] = found;
  if (found.length !== 1 || first === undefined) throw new Error(`${file}: expected one ${kind}`);
  return first.doc;
}

function provider(): JsonObject {
  const mesh = only(`${ISTIO}/mesh-config.yaml`, 'IstioOperator');
  const providers = objectsAt(mesh, 'spec.meshConfig.extensionProviders');
  const found = providers.find((p) => p.name === 'tollgate');
  if (!found) throw new Error('no extension provider named tollgate');
  return found;
}

const grpcProvider = (): JsonObject => asObject(provider().envoyExtAuthzGrpc, 'envoyExtAuthzGrpc');
const serviceEntry = (): JsonObject => only(`${ISTIO}/service-entry.yaml`, 'ServiceEntry');
const policy = (): JsonObject => only(`${ISTIO}/authorization-policy.yaml`, 'AuthorizationPolicy');
const baseGateway = () => theOne(readManifests('deploy/base/deployment.yaml'), 'Deployment', 'llm-gateway');

/** Whether an AuthorizationPolicy path (exact, "prefix*", "*suffix", "*") covers a request path or prefix. */
function covers(policyPath: string, match: { exact?: string; prefix?: string }): boolean {
  if (policyPath === '*') return true;
  if (match.exact !== undefined) {
    if (policyPath === match.exact) return true;
    if (policyPath.endsWith('*')) return match.exact.startsWith(policyPath.slice(0, -1));
    return policyPath.startsWith('*') && match.exact.endsWith(policyPath.slice(1));
  }
  return match.prefix !== undefined && policyPath.endsWith('*') && match.prefix.startsWith(policyPath.slice(0, -1));
}

describe('deploy: Istio wiring', () => {
  it('mesh-config.yaml declares an envoyExtAuthzGrpc provider with only fields Istio knows', () => {
    const mesh = only(`${ISTIO}/mesh-config.yaml`, 'IstioOperator');
    expect(Object.keys(asObject(mesh.spec, 'spec'))).to.deep.equal(['meshConfig']);
    expect(Object.keys(asObject(dig(mesh, 'spec.meshConfig'), 'meshConfig'))).to.deep.equal(['extensionProviders']);
    for (const p of objectsAt(mesh, 'spec.meshConfig.extensionProviders')) {
      expect(extAuthzGrpcProviderProblems(p, String(p.name))).to.deep.equal([]);
    }
  });

  it('the provider checker rejects misspelled fields and wrong types', () => {
    const broken = {
      name: 'x',
      envoyExtAuthzGrpc: { service: 's', port: '9001', failOpen: 'false', includeRequestBodyInCheck: { maxRequestByte: 1 } },
    };
    const problems = extAuthzGrpcProviderProblems(broken).join('\n');
    expect(problems).to.include('port: expected a port number');
    expect(problems).to.include('failOpen: expected true or false');
    expect(problems).to.include('maxRequestByte: unknown field');
  });

  it('fails closed with 503, like the Envoy configs', () => {
    expect(grpcProvider().failOpen).to.equal(false);
    expect(grpcProvider().statusOnError).to.equal('503');
  });

  it('uses the same check timeout and body settings as the Envoy configs', () => {
    const authz = filterConfigs(connectionManagers(decodeEnvoyFile('envoy/front-proxy.yaml').tree)[0]?.hcm ?? {}, EXT_AUTHZ)[0];
    const timeout = String(grpcProvider().timeout);
    expect(Number(timeout.replace(/s$/, '')) * 1000).to.equal(durationMs(dig(authz, 'grpc_service.timeout')));
    const body = asObject(grpcProvider().includeRequestBodyInCheck, 'includeRequestBodyInCheck');
    expect(body).to.deep.equal({
      maxRequestBytes: dig(authz, 'with_request_body.max_request_bytes'),
      allowPartialMessage: dig(authz, 'with_request_body.allow_partial_message'),
      packAsBytes: dig(authz, 'with_request_body.pack_as_bytes'),
    });
  });

  it('is the provider the CUSTOM AuthorizationPolicy names', () => {
    expect(policy().spec).to.include({ action: 'CUSTOM' });
    expect(dig(policy(), 'spec.provider.name')).to.equal(provider().name);
  });

  it("points at the ServiceEntry, which is the Tollgate sidecar's loopback gRPC port", () => {
    const entry = serviceEntry();
    expect(dig(entry, 'spec.hosts')).to.deep.equal([grpcProvider().service]);
    expect(dig(entry, 'spec.resolution')).to.equal('STATIC');
    const ports = objectsAt(entry, 'spec.ports');
    expect(ports).to.have.length(1);
    expect(ports[0]).to.include({ number: grpcProvider().port, protocol: 'GRPC' });
    const tollgate = container(podSpec(baseGateway()), 'tollgate');
    const addr = hostPort(envValue(tollgate, 'TOLLGATE_GRPC_ADDR') ?? '');
    expect(addr.port).to.equal(grpcProvider().port);
    expect(objectsAt(entry, 'spec.endpoints').map((e) => e.address)).to.deep.equal([addr.host]);
  });

  it('keeps the ServiceEntry in its namespace, so only pods running the sidecar can resolve it', () => {
    expect(dig(serviceEntry(), 'spec.exportTo')).to.deep.equal(['.']);
  });

  it('selects the gateway pods, which run the Tollgate sidecar', () => {
    const labels = podLabels(baseGateway());
    expect(selectorMatches(dig(policy(), 'spec.selector.matchLabels'), labels)).to.equal(true);
    const gateway = only(`${ISTIO}/gateway.yaml`, 'Gateway');
    expect(selectorMatches(dig(gateway, 'spec.selector'), labels)).to.equal(true);
  });

  it('checks every path the gateway routes to LiteLLM', () => {
    const paths = objectsAt(policy(), 'spec.rules')
      .flatMap((r) => objectsAt(r, 'to'))
      .flatMap((t) => asArray(dig(t, 'operation.paths') ?? [], 'operation.paths'))
      .map(String);
    const virtualService = only(`${ISTIO}/gateway.yaml`, 'VirtualService');
    const matches = objectsAt(virtualService, 'spec.http').flatMap((h) => objectsAt(h, 'match'));
    expect(matches).to.have.length.greaterThan(0);
    for (const match of matches) {
      const uri = asObject(match.uri, 'uri');
      expect(Object.keys(match), 'uri matches only (headers etc. could widen the route)').to.deep.equal(['uri']);
      const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
      const spec = { exact: text(uri.exact), prefix: text(uri.prefix) };
      expect(paths.some((p) => covers(p, spec)), JSON.stringify(uri)).to.equal(true);
    }
  });

  it('serves the Gateway on the port the Service targets on the injected proxy', () => {
    const server = objectsAt(only(`${ISTIO}/gateway.yaml`, 'Gateway'), 'spec.servers')[0];
    const patch = theOne(readManifests(`${ISTIO}/gateway-deployment-patch.yaml`), 'Deployment', 'llm-gateway');
    const proxy = objectsAt(dig(patch.doc, 'spec.template.spec'), 'containers').find((c) => c.name === 'istio-proxy');
    expect(objectsAt(proxy, 'ports').map((p) => p.containerPort)).to.include(dig(server, 'port.number'));
  });

  it('renders a gateway pod without the plain Envoy, with the injected proxy and the Tollgate sidecar', function () {
    if (!hasKubectl()) this.skip();
    this.timeout(30_000); // kubectl kustomize takes a few hundred ms per tree
    const rendered = kubectlBuild(ISTIO);
    const deployment = theOne(rendered, 'Deployment', 'llm-gateway');
    const names = [...objectsAt(podSpec(deployment), 'initContainers'), ...objectsAt(podSpec(deployment), 'containers')].map((c) => c.name);
    expect(names).to.have.members(['tollgate', 'istio-proxy']);
    expect(podLabels(deployment)['sidecar.istio.io/inject']).to.equal('true');
    expect(dig(deployment.doc, 'spec.template.metadata.annotations')).to.include({ 'inject.istio.io/templates': 'gateway' });
    expect(rendered.filter((m) => m.doc.kind === 'ConfigMap').map((m) => String(dig(m.doc, 'metadata.name')))).to.satisfy(
      (list: string[]) => list.every((n) => !n.startsWith('envoy-config')),
    );
    expect(selectorMatches(dig(policy(), 'spec.selector.matchLabels'), podLabels(deployment))).to.equal(true);
  });
});
