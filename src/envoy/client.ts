/**
 * A client for our own Authorization service: used by `tollgate check` and by the tests,
 * which speak to the server exactly as Envoy does (same method path, same protobuf messages).
 */
import * as grpc from '@grpc/grpc-js';
import type { CheckRequest, CheckResponse } from './messages';
import { authorizationService } from './protos';

/** A grpc-js client class for envoy.service.auth.v3.Authorization (methods are untyped; prefer `callCheck`). */
export function authorizationClientConstructor(): grpc.ServiceClientConstructor {
  return grpc.makeGenericClientConstructor(authorizationService(), 'Authorization');
}

export function createAuthorizationClient(
  address: string,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  options?: grpc.ClientOptions,
): grpc.Client {
  const Client = authorizationClientConstructor();
  return new Client(address, credentials, options);
}

export interface CheckCallOptions {
  /** Like Envoy's ext_authz `grpc_service.timeout`, which it sends as the call deadline (default 200 ms). */
  readonly timeoutMs?: number;
  readonly metadata?: grpc.Metadata;
}

/** One typed Check call; rejects with the grpc-js ServiceError when the RPC itself fails. */
export function callCheck(client: grpc.Client, request: CheckRequest, options: CheckCallOptions = {}): Promise<CheckResponse> {
  const method = authorizationService().Check;
  const callOptions: grpc.CallOptions =
    options.timeoutMs === undefined ? {} : { deadline: new Date(Date.now() + options.timeoutMs) };
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      options.metadata ?? new grpc.Metadata(),
      callOptions,
      (error, response) => {
        if (error) reject(error);
        else resolve(response ?? {});
      },
    );
  });
}
