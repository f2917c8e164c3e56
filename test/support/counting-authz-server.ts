/**
 * A real grpc-js Authorization server on a free loopback port that allows every Check and counts
 * them: what the bench's load generators are tested against.
 */
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { CheckRequest, CheckResponse } from '../../src/envoy/messages';
import { authorizationService } from '../../src/envoy/protos';

export interface CountingAuthzServer {
  readonly address: string;
  /** Checks answered since the start. */
  readonly answered: number;
  close(): void;
}

export async function startCountingAuthzServer(): Promise<CountingAuthzServer> {
  const server = new Server();
  let answered = 0;
  server.addService(authorizationService(), {
    Check: (_call: ServerUnaryCall<CheckRequest, CheckResponse>, callback: sendUnaryData<CheckResponse>) => {
      answered += 1;
      callback(null, { status: { code: 0 }, ok_response: {} });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    address: `127.0.0.1:${port}`,
    get answered() {
      return answered;
    },
    close: () => server.forceShutdown(),
  };
}
