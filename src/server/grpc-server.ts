/** The gRPC server: Authorization/Check, ExternalProcessor/Process and grpc.health.v1.Health on one port. */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import { servingAuthorizationService } from '../envoy/protos';
import type { CheckHandler } from './check-handler';
import { externalProcessorService, type ExternalProcessorHandlers } from '../metering/ext-proc-protos';

export interface GrpcServer {
  readonly port: number;
  setHealth(status: ServingStatus): void;
  /** Stops accepting calls and resolves once in-flight calls have finished (or `graceMs` passed). */
  shutdown(graceMs: number): Promise<void>;
}

/** Services served next to Authorization on the same port. */
export interface ExtraServices {
  /** Envoy's ext_proc stream, for metering responses (metering/ext-proc-handler.ts). */
  readonly process?: ExternalProcessorHandlers['Process'];
}

export async function startGrpcServer(address: string, check: CheckHandler, extra: ExtraServices = {}): Promise<GrpcServer> {
  // channelz bookkeeping costs CPU on every call and nothing here reads it.
  const server = new Server({ 'grpc.enable_channelz': 0, 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  server.addService(servingAuthorizationService(), { Check: check });
  if (extra.process !== undefined) server.addService(externalProcessorService(), { Process: extra.process });
  const health = new HealthImplementation({ '': 'NOT_SERVING', 'envoy.service.auth.v3.Authorization': 'NOT_SERVING' });
  health.addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, boundPort) =>
      error ? reject(error) : resolve(boundPort),
    );
  });

  return {
    port,
    setHealth(status: ServingStatus): void {
      health.setStatus('', status);
      health.setStatus('envoy.service.auth.v3.Authorization', status);
    },
    shutdown(graceMs: number): Promise<void> {
      return new Promise((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
