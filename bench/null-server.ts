/**
 * The null ext_authz server: the same stack as `tollgate serve` (grpc-js, Envoy's protos loaded by
 * src/envoy/protos.ts, the same server options) answering every Check with OK and one header.
 * Whatever it costs is the floor any ext_authz server on this stack pays; Tollgate is measured
 * against it in the same run.
 *
 * Prints one JSON line `{"msg":"listening","grpcPort":N}` once bound.
 */
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { CheckRequest, CheckResponse } from '../src/envoy/messages';
import { authorizationService } from '../src/envoy/protos';

const OK: CheckResponse = {
  status: { code: 0 },
  ok_response: { headers: [{ header: { key: 'x-null-authz', value: 'ok' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }] },
};

function check(_call: ServerUnaryCall<CheckRequest, CheckResponse>, callback: sendUnaryData<CheckResponse>): void {
  callback(null, OK);
}

// The same options as src/server/grpc-server.ts, so the comparison is like for like.
const server = new Server({ 'grpc.enable_channelz': 0, 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
server.addService(authorizationService(), { Check: check });
server.bindAsync(process.env.NULL_GRPC_ADDR ?? '127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    console.error(error);
    process.exit(1);
  }
  console.log(JSON.stringify({ msg: 'listening', grpcPort: port, pid: process.pid }));
});
process.once('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
