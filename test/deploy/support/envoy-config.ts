/**
 * Our Envoy bootstrap files, decoded into envoy.config.bootstrap.v3.Bootstrap, and small accessors
 * over the decoded tree for the semantic assertions (filters, routes, clusters).
 */
import { envoyRoot } from './envoy-protos';
import { asObject, dig, isObject, objectsAt, type JsonObject } from './json';
import { decodeProtoJson, type Decoded } from './proto-json';
import { listRepoFiles, readRepoYamlSingle } from './repo';

export const BOOTSTRAP = 'envoy.config.bootstrap.v3.Bootstrap';
export const HCM = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const EXT_AUTHZ = 'envoy.extensions.filters.http.ext_authz.v3.ExtAuthz';
export const EXT_AUTHZ_PER_ROUTE = 'envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute';
export const ROUTER = 'envoy.extensions.filters.http.router.v3.Router';
export const CREDENTIAL_INJECTOR = 'envoy.extensions.filters.http.credential_injector.v3.CredentialInjector';
export const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
export const UPSTREAM_TLS = 'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
export const FILE_ACCESS_LOG = 'envoy.extensions.access_loggers.file.v3.FileAccessLog';

/** The per-route config key of the ext_authz filter (its filter name in http_filters). */
export const EXT_AUTHZ_FILTER_NAME = 'envoy.filters.http.ext_authz';

/** Envoy's default per-connection buffer limit, which bounds what a filter may buffer. */
export const DEFAULT_BUFFER_LIMIT_BYTES = 1024 * 1024;

/**
 * Every Envoy bootstrap in the repository: the standalone configs under envoy/ and the one the
 * Kubernetes base ships in its envoy-config ConfigMap.
 */
export function envoyConfigFiles(): string[] {
  return [...listRepoFiles('envoy', ['.yaml', '.yml']), ...listRepoFiles('deploy', ['envoy.yaml'])];
}

const cache = new Map<string, Decoded>();

export function decodeEnvoyFile(file: string): Decoded {
  const hit = cache.get(file);
  if (hit) return hit;
  const decoded = decodeProtoJson(envoyRoot(), BOOTSTRAP, readRepoYamlSingle(file));
  cache.set(file, decoded);
  return decoded;
}

export function typeOf(value: unknown): string | undefined {
  return isObject(value) && typeof value['@type'] === 'string' ? value['@type'] : undefined;
}

export function listeners(tree: JsonObject): JsonObject[] {
  return objectsAt(tree, 'static_resources.listeners');
}

export function clusters(tree: JsonObject): JsonObject[] {
  return objectsAt(tree, 'static_resources.clusters');
}

export function cluster(tree: JsonObject, name: string): JsonObject {
  const found = clusters(tree).find((c) => c.name === name);
  if (!found) throw new Error(`no cluster named ${name}`);
  return found;
}

/** Each HTTP connection manager with the listener it sits in. */
export function connectionManagers(tree: JsonObject): { listener: JsonObject; hcm: JsonObject }[] {
  return listeners(tree).flatMap((listener) =>
    objectsAt(listener, 'filter_chains').flatMap((chain) =>
      objectsAt(chain, 'filters')
        .map((filter) => filter.typed_config)
        .filter((config) => typeOf(config) === HCM)
        .map((hcm) => ({ listener, hcm: asObject(hcm, 'HttpConnectionManager') })),
    ),
  );
}

export function httpFilters(hcm: JsonObject): JsonObject[] {
  return objectsAt(hcm, 'http_filters');
}

export function filterConfigs(hcm: JsonObject, type: string): JsonObject[] {
  return httpFilters(hcm)
    .map((f) => f.typed_config)
    .filter((config): config is JsonObject => typeOf(config) === type);
}

export function routes(hcm: JsonObject): JsonObject[] {
  return objectsAt(hcm, 'route_config.virtual_hosts').flatMap((vh) => objectsAt(vh, 'routes'));
}

/** The ExtAuthzPerRoute override of a route, if any. */
export function extAuthzOverride(route: JsonObject): JsonObject | undefined {
  const override = dig(route, `typed_per_filter_config`);
  if (!isObject(override)) return undefined;
  const config = override[EXT_AUTHZ_FILTER_NAME];
  return typeOf(config) === EXT_AUTHZ_PER_ROUTE ? asObject(config, 'ExtAuthzPerRoute') : undefined;
}

/** A decoded google.protobuf.Duration ({seconds: "0", nanos: 500000000}) in milliseconds. */
export function durationMs(value: unknown): number {
  if (!isObject(value)) throw new Error('not a Duration');
  return Number(value.seconds ?? 0) * 1000 + Number(value.nanos ?? 0) / 1e6;
}

/** A typed_extension_protocol_options entry (its key contains dots, so `dig` cannot reach it). */
export function protocolOptions(c: JsonObject, key: string): JsonObject | undefined {
  const options = c.typed_extension_protocol_options;
  return isObject(options) && isObject(options[key]) ? options[key] : undefined;
}

/** host:port of a cluster's only endpoint. */
export function singleEndpoint(c: JsonObject): { address: string; port: number } {
  const endpoints = objectsAt(c, 'load_assignment.endpoints').flatMap((e) => objectsAt(e, 'lb_endpoints'));
  if (endpoints.length !== 1) throw new Error(`cluster ${String(c.name)} has ${endpoints.length} endpoints`);
  const socket = asObject(dig(endpoints[0], 'endpoint.address.socket_address'), 'socket_address');
  return { address: String(socket.address), port: Number(socket.port_value) };
}

/** Every string anywhere under `value` (for scanning access-log formats and the like). */
export function allStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (isObject(value)) return Object.values(value).flatMap(allStrings);
  return [];
}

/** Cluster names that the config refers to: routes, ext_authz gRPC services, weighted clusters. */
export function referencedClusters(tree: JsonObject): string[] {
  const names: string[] = [];
  const walk = (value: unknown, parentKey: string): void => {
    if (Array.isArray(value)) value.forEach((v) => walk(v, parentKey));
    if (!isObject(value)) return;
    for (const [key, child] of Object.entries(value)) {
      // load_assignment.cluster_name is a cluster's own name, not a reference.
      if (key === 'cluster_name' && parentKey !== 'load_assignment' && typeof child === 'string') names.push(child);
      else if (key === 'cluster' && typeof child === 'string' && parentKey !== 'node') names.push(child);
      else walk(child, key);
    }
  };
  walk(tree, '');
  return [...new Set(names)];
}
