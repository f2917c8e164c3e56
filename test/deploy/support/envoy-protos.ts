/**
 * Envoy's own API protos, loaded with protobufjs from the copy that ships inside @grpc/grpc-js-xds
 * (deps/envoy-api, deps/xds, deps/googleapis, deps/protoc-gen-validate). Validating our YAML against
 * these types is the closest we get to `envoy --mode validate` without an Envoy binary.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';

/**
 * The proto files whose messages may appear in our configs, directly or as a `typed_config` Any.
 * An `@type` outside this set fails verification ("unknown Any type"); add the extension's proto here
 * when a config starts using it. (Loading every extension proto is not possible: some import
 * OpenTelemetry/CEL protos that the grpc-js-xds copy does not carry.)
 */
export const ENVOY_PROTO_FILES: readonly string[] = [
  'envoy/config/bootstrap/v3/bootstrap.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto',
  'envoy/extensions/filters/http/ext_proc/v3/ext_proc.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/credential_injector/v3/credential_injector.proto',
  'envoy/extensions/http/injected_credentials/generic/v3/generic.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/access_loggers/file/v3/file.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  'envoy/extensions/formatter/req_without_query/v3/req_without_query.proto',
  'envoy/extensions/resource_monitors/fixed_heap/v3/fixed_heap.proto',
  'envoy/extensions/resource_monitors/downstream_connections/v3/downstream_connections.proto',
];

function includeDirs(): string[] {
  const xds = path.dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
  const deps = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(xds, 'deps', d));
  // google/protobuf/descriptor.proto (imported by the annotation protos) ships with protobufjs itself.
  return [...deps, path.dirname(require.resolve('protobufjs/package.json'))];
}

let cached: protobuf.Root | undefined;

/** One shared, fully resolved Root (loading takes a few hundred milliseconds). */
export function envoyRoot(): protobuf.Root {
  if (cached) return cached;
  const dirs = includeDirs();
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string): string => {
    if (path.isAbsolute(target)) return target;
    const hit = dirs.map((d) => path.join(d, target)).find((candidate) => existsSync(candidate));
    // Unresolved names fall through unchanged so protobufjs can use its bundled well-known types.
    return hit ?? target;
  };
  // keepCase: field names stay snake_case as in the .proto files and in Envoy's YAML.
  root.loadSync([...ENVOY_PROTO_FILES], { keepCase: true });
  root.resolveAll();
  cached = root;
  return root;
}
