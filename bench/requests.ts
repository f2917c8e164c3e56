/**
 * Envoy-shaped CheckRequests for the bench: what Envoy's ext_authz filter sends for an
 * OpenAI-style chat call through a gateway (pseudo-headers, forwarding and tracing headers,
 * the buffered JSON body), serialized once with the service's own serializer.
 */
import type { CheckRequest } from '../src/envoy/messages';
import { authorizationService } from '../src/envoy/protos';
import { MODELS } from './tenant';

const PROMPT = 'Summarise the following meeting notes in three bullet points. '.repeat(6);

export function chatCheckRequest(rawKey: string, index: number): CheckRequest {
  const body = JSON.stringify({
    model: MODELS[index % 2],
    messages: [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: PROMPT },
    ],
    temperature: 0.2,
    max_tokens: 256,
    stream: true,
  });
  const requestId = `0b4f6c1e-${String(index).padStart(8, '0')}-4d5e-9f00-bench`;
  const headers: Record<string, string> = {
    ':authority': 'llm-gateway.example.com',
    ':method': 'POST',
    ':path': '/v1/chat/completions',
    ':scheme': 'https',
    accept: 'application/json',
    'accept-encoding': 'gzip, deflate',
    authorization: `Bearer ${rawKey}`,
    'content-length': String(Buffer.byteLength(body)),
    'content-type': 'application/json',
    'user-agent': 'OpenAI/Python 1.50.0',
    'x-stainless-lang': 'python',
    'x-stainless-package-version': '1.50.0',
    'x-stainless-runtime': 'CPython',
    'x-forwarded-for': '203.0.113.7',
    'x-forwarded-proto': 'https',
    'x-envoy-external-address': '203.0.113.7',
    'x-request-id': requestId,
    traceparent: `00-4bf92f3577b34da6a3ce929d0e0e${String(index % 10000).padStart(4, '0')}-00f067aa0ba902b7-01`,
  };
  return {
    attributes: {
      source: { address: { socket_address: { address: '203.0.113.7', port_value: 51234 } } },
      destination: { address: { socket_address: { address: '10.0.0.12', port_value: 8080 } } },
      request: {
        http: {
          id: requestId,
          method: 'POST',
          headers,
          path: '/v1/chat/completions',
          host: 'llm-gateway.example.com',
          scheme: 'https',
          size: String(Buffer.byteLength(body)),
          protocol: 'HTTP/2',
          body,
        },
      },
    },
  };
}

/**
 * The same Check carrying a long-context chat body of about `promptBytes`, as deployments send it
 * (`pack_as_bytes: true`, so `raw_body`): many turns of conversation, as an agent or a RAG
 * pipeline sends them.
 */
export function longContextCheckRequest(rawKey: string, index: number, promptBytes: number): CheckRequest {
  const base = chatCheckRequest(rawKey, index);
  const turn = 'Earlier in this conversation: a paragraph of retrieved context, quoted "as is" with its \\ escapes. '.repeat(12);
  const messages = [{ role: 'system', content: 'You are a helpful assistant.' }];
  for (let i = 0; messages.length * turn.length < promptBytes; i += 1) messages.push({ role: i % 2 === 0 ? 'user' : 'assistant', content: turn });
  const body = Buffer.from(JSON.stringify({ model: MODELS[index % 2], messages, temperature: 0.2, max_tokens: 256, stream: true }));
  const http = base.attributes?.request?.http ?? {};
  const headers = { ...http.headers, 'content-length': String(body.length) };
  const request = { ...http, headers, size: String(body.length), raw_body: body };
  delete request.body;
  return { attributes: { ...base.attributes, request: { http: request } } };
}

/**
 * BENCH_BODY_KIB: the KiB of long-context chat body the measured warm Checks carry (0, the
 * default: the ~600-byte chat body). Only h2load sends it, from one prepared request; the grpc-js
 * client's warm-up and the cold-key phases keep the short body.
 */
export function measuredBodyKib(env: NodeJS.ProcessEnv, useH2load: boolean): number {
  const asked = env.BENCH_BODY_KIB ?? '0';
  const kib = Number(asked);
  if (!/^\d+$/.test(asked) || kib > 8 * 1024) throw new Error(`BENCH_BODY_KIB must be a whole number of KiB up to 8192, not ${JSON.stringify(asked)}`);
  if (kib > 0 && !useH2load) throw new Error('BENCH_BODY_KIB needs h2load as the load generator (apt-get install nghttp2-client)');
  return kib;
}

export function serializeCheck(request: CheckRequest): Buffer {
  return authorizationService().Check.requestSerialize(request);
}
