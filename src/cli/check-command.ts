/**
 * `tollgate check`: one CheckRequest shaped like Envoy's (pseudo-headers, body, peer), sent over
 * gRPC to a running `tollgate serve`, and the decision printed for a human.
 */
import { randomUUID } from 'node:crypto';
import { callCheck, createAuthorizationClient } from '../envoy/client';
import { fromStruct, type CheckRequest, type CheckResponse } from '../envoy/messages';

export interface CheckOptions {
  readonly address: string;
  readonly key?: string;
  readonly method: string;
  readonly path: string;
  readonly headers: readonly string[];
  readonly body?: string;
  readonly timeoutMs: number;
}

export function buildCheckRequest(options: CheckOptions): CheckRequest {
  const headers: Record<string, string> = {
    ':method': options.method.toUpperCase(),
    ':path': options.path,
    ':authority': 'localhost',
    ':scheme': 'http',
    'x-request-id': randomUUID(),
  };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
  for (const pair of options.headers) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`--header expects name=value, got '${pair}'`);
    headers[pair.slice(0, at).trim().toLowerCase()] = pair.slice(at + 1);
  }
  return {
    attributes: {
      source: { address: { socket_address: { address: '127.0.0.1', port_value: 40000 } } },
      request: {
        http: {
          id: headers['x-request-id'],
          method: options.method.toUpperCase(),
          path: options.path,
          host: 'localhost',
          scheme: 'http',
          protocol: 'HTTP/1.1',
          headers,
          ...(options.body !== undefined
            ? { body: options.body, size: String(Buffer.byteLength(options.body)) }
            : { size: '0' }),
        },
      },
    },
  };
}

/** Human-readable decision; the exit code says allow (0) or deny (1). */
export function describeResponse(response: CheckResponse): { text: string; allowed: boolean } {
  if ((response.status?.code ?? 0) === 0) {
    const lines = ['ALLOW'];
    for (const option of response.ok_response?.headers ?? []) {
      lines.push(`  set    ${option.header?.key ?? ''}: ${option.header?.value ?? ''}`);
    }
    for (const name of response.ok_response?.headers_to_remove ?? []) lines.push(`  remove ${name}`);
    const metadata = fromStruct(response.dynamic_metadata);
    if (Object.keys(metadata).length > 0) lines.push(`  metadata ${JSON.stringify(metadata)}`);
    return { text: lines.join('\n'), allowed: true };
  }
  const body = response.denied_response?.body ?? '';
  // The envelope repeats the HTTP status as a number; the decoded enum only has its name.
  let status = String(response.denied_response?.status?.code ?? 'Forbidden');
  let summary = body;
  try {
    const parsed = JSON.parse(body) as { error?: { type?: string; message?: string; code?: string } };
    summary = `${parsed.error?.type ?? ''}: ${parsed.error?.message ?? ''}`;
    status = parsed.error?.code ?? status;
  } catch {
    // not JSON: print as is
  }
  return { text: `DENY ${status} ${summary}\n  body ${body}`, allowed: false };
}

export async function runCheck(options: CheckOptions): Promise<{ text: string; allowed: boolean }> {
  const client = createAuthorizationClient(options.address);
  try {
    return describeResponse(await callCheck(client, buildCheckRequest(options), { timeoutMs: options.timeoutMs }));
  } finally {
    client.close();
  }
}
