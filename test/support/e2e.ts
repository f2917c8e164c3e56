/** Shared plumbing for end-to-end tests: a built bin, a gRPC client, health checks. */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { callCheck, createAuthorizationClient } from '../../src/envoy/client';
import type { CheckRequest, CheckResponse } from '../../src/envoy/messages';

export function requireBuild(): void {
  if (!existsSync(resolve(__dirname, '../../dist/src/cli/main.js'))) {
    throw new Error('end-to-end tests run the built bin: run `npm run build` first (npm test does)');
  }
}

export interface Checker {
  check(request: CheckRequest, timeoutMs?: number): Promise<CheckResponse>;
  health(service?: string): Promise<string>;
  close(): void;
}

export function connect(address: string): Checker {
  const client = createAuthorizationClient(address);
  const definition = grpc.loadPackageDefinition(loadSync(healthProtoPath, { keepCase: true, enums: String }));
  const healthPackage = (definition.grpc as grpc.GrpcObject).health as grpc.GrpcObject;
  const Health = (healthPackage.v1 as grpc.GrpcObject).Health as grpc.ServiceClientConstructor;
  const health = new Health(address, grpc.credentials.createInsecure());
  return {
    check: (request, timeoutMs = 5000) => callCheck(client, request, { timeoutMs }),
    health: (service = '') =>
      new Promise((resolveStatus, reject) => {
        health.Check({ service }, { deadline: Date.now() + 3000 }, (error: grpc.ServiceError | null, reply: { status: string }) =>
          error ? reject(error) : resolveStatus(reply.status),
        );
      }),
    close: () => {
      client.close();
      health.close();
    },
  };
}

export interface TempConfig {
  readonly path: string;
  cleanup(): void;
}

export function writeConfig(yaml: string): TempConfig {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-config-'));
  const path = join(dir, 'config.yaml');
  writeFileSync(path, yaml);
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
