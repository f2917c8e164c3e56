/**
 * Envoy's ext_authz v3 service, loaded at runtime from the .proto files that ship inside
 * @grpc/grpc-js-xds (deps/envoy-api …). Nothing is copied into this repository: upgrading that
 * package upgrades the protos, and the messages are read through the shapes in `messages.ts`.
 */
import path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { CheckRequest, CheckResponse } from './messages';
import { encodeCheckResponse } from './check-response-encoder';
import { decodeCheckRequest } from './check-request-decoder';

export const AUTHORIZATION_SERVICE = 'envoy.service.auth.v3.Authorization';
export const CHECK_METHOD_PATH = `/${AUTHORIZATION_SERVICE}/Check`;
const ENTRY_PROTO = 'envoy/service/auth/v3/external_auth.proto';

/** The decoding contract `messages.ts` is written against; changing one means changing the other. */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = Object.freeze({
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
});

export type CheckMethodDefinition = grpc.MethodDefinition<CheckRequest, CheckResponse>;

/** `server.addService(authorizationService(), handlers)` */
export type AuthorizationServiceDefinition = grpc.ServiceDefinition<AuthorizationHandlers> & {
  readonly Check: CheckMethodDefinition;
};

/** The implementation object the server registers (a type alias, so it fits grpc-js's untyped map). */
export type AuthorizationHandlers = {
  Check: grpc.handleUnaryCall<CheckRequest, CheckResponse>;
};

/** Where the proto trees live inside @grpc/grpc-js-xds, resolved through Node's module resolution. */
export function envoyProtoIncludeDirs(): string[] {
  const packageRoot = path.dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
  return ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((dir) => path.join(packageRoot, 'deps', dir));
}

let loaded: protoLoader.PackageDefinition | undefined;

/** The package definition for external_auth.proto and everything it imports; parsed once (~150 ms). */
export function authorizationPackage(): protoLoader.PackageDefinition {
  loaded ??= protoLoader.loadSync(ENTRY_PROTO, { ...PROTO_LOADER_OPTIONS, includeDirs: envoyProtoIncludeDirs() });
  return loaded;
}

export function authorizationService(): AuthorizationServiceDefinition {
  const service = authorizationPackage()[AUTHORIZATION_SERVICE];
  if (service === undefined || !isServiceDefinition(service) || service.Check?.path !== CHECK_METHOD_PATH) {
    throw new Error(`${ENTRY_PROTO} did not define ${AUTHORIZATION_SERVICE}.Check`);
  }
  // proto-loader types messages as `object`; the shapes in messages.ts describe what it produces
  // with PROTO_LOADER_OPTIONS (pinned by test/envoy/protos.test.ts).
  return service as unknown as AuthorizationServiceDefinition;
}

/**
 * What `tollgate serve` registers: the same service, with requests read by the dedicated decoder
 * (check-request-decoder.ts) and responses written by the dedicated encoder
 * (check-response-encoder.ts; protobufjs only for shapes that encoder leaves alone).
 */
export function servingAuthorizationService(): AuthorizationServiceDefinition {
  const service = authorizationService();
  const generic = service.Check.responseSerialize;
  const responseSerialize = (response: CheckResponse): Buffer => encodeCheckResponse(response) ?? generic(response);
  return { ...service, Check: { ...service.Check, requestDeserialize: decodeCheckRequest, responseSerialize } };
}

function isServiceDefinition(
  value: protoLoader.AnyDefinition,
): value is protoLoader.ServiceDefinition & { Check?: protoLoader.MethodDefinition<object, object> } {
  return !('format' in value);
}
