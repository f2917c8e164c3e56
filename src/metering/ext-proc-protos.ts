/**
 * Envoy's ext_proc v3 service (envoy.service.ext_proc.v3.ExternalProcessor), loaded at runtime
 * from the .proto files inside @grpc/grpc-js-xds exactly as envoy/protos.ts loads ext_authz:
 * nothing copied into this repository, same decoding options.
 */
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { envoyProtoIncludeDirs, PROTO_LOADER_OPTIONS } from '../envoy/protos';
import type { ProcessingRequest, ProcessingResponse } from './ext-proc-messages';

export const EXTERNAL_PROCESSOR_SERVICE = 'envoy.service.ext_proc.v3.ExternalProcessor';
export const PROCESS_METHOD_PATH = `/${EXTERNAL_PROCESSOR_SERVICE}/Process`;
const ENTRY_PROTO = 'envoy/service/ext_proc/v3/external_processor.proto';

export type ProcessMethodDefinition = grpc.MethodDefinition<ProcessingRequest, ProcessingResponse>;

/** The implementation object the server registers (a type alias, so it fits grpc-js's untyped map). */
export type ExternalProcessorHandlers = {
  Process: grpc.handleBidiStreamingCall<ProcessingRequest, ProcessingResponse>;
};

export type ExternalProcessorServiceDefinition = grpc.ServiceDefinition<ExternalProcessorHandlers> & {
  readonly Process: ProcessMethodDefinition;
};

let loaded: protoLoader.PackageDefinition | undefined;

export function externalProcessorPackage(): protoLoader.PackageDefinition {
  loaded ??= protoLoader.loadSync(ENTRY_PROTO, { ...PROTO_LOADER_OPTIONS, includeDirs: envoyProtoIncludeDirs() });
  return loaded;
}

export function externalProcessorService(): ExternalProcessorServiceDefinition {
  const service = externalProcessorPackage()[EXTERNAL_PROCESSOR_SERVICE];
  if (service === undefined || 'format' in service || !('Process' in service) || service.Process.path !== PROCESS_METHOD_PATH) {
    throw new Error(`${ENTRY_PROTO} did not define ${EXTERNAL_PROCESSOR_SERVICE}.Process`);
  }
  // proto-loader types messages as `object`; ext-proc-messages.ts describes what it produces.
  return service as unknown as ExternalProcessorServiceDefinition;
}
