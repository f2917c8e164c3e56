/**
 * Envoy-shaped CheckRequests and readers for CheckResponses, for end-to-end tests.
 * Shapes follow what Envoy's ext_authz filter sends (spec/envoy-ext-authz.md §2): lower-cased
 * headers with pseudo-headers, the body as `body` (UTF-8) or `raw_body` (pack_as_bytes).
 */
import type { CheckRequest, CheckResponse } from '../../src/envoy/messages';
import { fromStruct } from '../../src/envoy/messages';
import type { Json } from '../../src/domain/entities';

export interface EnvoyRequestOptions {
  readonly key?: string;
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
  /** Send the body as raw bytes (with_request_body.pack_as_bytes: true). */
  readonly asRawBody?: boolean;
  /** Send only this many bytes of the body, flagged as partial (allow_partial_message: true). */
  readonly truncateTo?: number;
  /** Use header_map with raw values instead of the headers map (encode_raw_headers: true). */
  readonly rawHeaders?: boolean;
  readonly sourceAddress?: string;
}

let counter = 0;

export function anEnvoyCheck(options: EnvoyRequestOptions = {}): CheckRequest {
  const method = options.method ?? 'POST';
  const path = options.path ?? '/v1/chat/completions';
  const text =
    options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const sent = text !== undefined && options.truncateTo !== undefined ? text.slice(0, options.truncateTo) : text;
  counter += 1;
  const headers: Record<string, string> = {
    ':method': method,
    ':path': path,
    ':authority': 'gateway.example.com',
    ':scheme': 'https',
    'x-request-id': `req-${counter}`,
    'user-agent': 'openai-python/1.50.0',
    ...(text !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) } : {}),
    ...(options.truncateTo !== undefined ? { 'x-envoy-auth-partial-body': 'true' } : {}),
    ...(options.key !== undefined ? { authorization: `Bearer ${options.key}` } : {}),
    ...(options.headers ?? {}),
  };
  const http = {
    id: headers['x-request-id'],
    method,
    path,
    host: 'gateway.example.com',
    scheme: 'https',
    protocol: 'HTTP/2',
    size: text === undefined ? '-1' : String(Buffer.byteLength(text)),
    ...(options.rawHeaders
      ? { header_map: { headers: Object.entries(headers).map(([key, value]) => ({ key, raw_value: Buffer.from(value) })) } }
      : { headers }),
    ...(sent === undefined ? {} : options.asRawBody ? { raw_body: Buffer.from(sent, 'utf8') } : { body: sent }),
  };
  return {
    attributes: {
      source: { address: { socket_address: { address: options.sourceAddress ?? '10.1.2.3', port_value: 51234 } } },
      destination: { address: { socket_address: { address: '127.0.0.1', port_value: 8080 } } },
      request: { http },
    },
  };
}

export function chat(model: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model, messages: [{ role: 'user', content: 'Say hello' }], ...extra };
}

export interface DenialView {
  readonly grpcCode: number;
  readonly httpStatus: string | number | undefined;
  readonly type: string;
  readonly message: string;
  readonly param: string | null;
  readonly code: string;
  readonly contentType: string | undefined;
}

export function denialOf(response: CheckResponse): DenialView {
  const body = JSON.parse(response.denied_response?.body ?? 'null') as {
    error: { type: string; message: string; param: string | null; code: string };
  };
  return {
    grpcCode: response.status?.code ?? 0,
    httpStatus: response.denied_response?.status?.code,
    type: body.error.type,
    message: body.error.message,
    param: body.error.param,
    code: body.error.code,
    contentType: response.denied_response?.headers?.find((h) => h.header?.key === 'content-type')?.header?.value,
  };
}

export function isAllowed(response: CheckResponse): boolean {
  return (response.status?.code ?? 0) === 0 && response.ok_response !== undefined;
}

export function upstreamHeaders(response: CheckResponse): Record<string, string> {
  const out: Record<string, string> = {};
  for (const option of response.ok_response?.headers ?? []) out[option.header?.key ?? ''] = option.header?.value ?? '';
  return out;
}

export function metadataOf(response: CheckResponse): Record<string, Json> {
  return fromStruct(response.dynamic_metadata);
}
