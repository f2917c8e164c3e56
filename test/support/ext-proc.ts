/**
 * Speaks to Tollgate's ExternalProcessor exactly as Envoy's ext_proc filter does: one
 * bidirectional stream per HTTP request, request headers, response headers, then the response
 * body in chunks (processing_mode.response_body_mode: STREAMED).
 */
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { Struct } from '../../src/envoy/messages';
import { toStruct } from '../../src/envoy/messages';
import type { ProcessingRequest, ProcessingResponse } from '../../src/metering/ext-proc-messages';
import { externalProcessorService } from '../../src/metering/ext-proc-protos';
import type { Json } from '../../src/domain/entities';

export interface ExtProcClient {
  /** Sends the messages in order on one stream; resolves with the answers once the server ends it. */
  exchange(messages: readonly ProcessingRequest[]): Promise<ProcessingResponse[]>;
  close(): void;
}

export function connectExtProc(address: string): ExtProcClient {
  const Client = grpc.makeGenericClientConstructor(externalProcessorService(), 'ExternalProcessor');
  const client = new Client(address, grpc.credentials.createInsecure());
  const method = externalProcessorService().Process;
  return {
    exchange(messages) {
      return new Promise((resolve, reject) => {
        const answers: ProcessingResponse[] = [];
        const stream = client.makeBidiStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, new grpc.Metadata(), {
          deadline: Date.now() + 10_000,
        });
        stream.on('data', (answer: ProcessingResponse) => answers.push(answer));
        stream.on('error', reject);
        stream.on('end', () => resolve(answers));
        for (const message of messages) stream.write(message);
        stream.end();
      });
    },
    close: () => client.close(),
  };
}

function headers(values: Record<string, string>): { headers: { key: string; raw_value: Buffer }[] } {
  // Recent Envoy sends raw_value bytes, not value.
  return { headers: Object.entries(values).map(([key, value]) => ({ key, raw_value: Buffer.from(value) })) };
}

export interface UpstreamResponse {
  readonly requestId: string;
  readonly path?: string;
  /** More request headers, as the client sent them (`content-length`, say). */
  readonly requestHeaders?: Record<string, string>;
  readonly status?: number;
  readonly contentType?: string;
  /** The response body, already cut into the chunks Envoy would stream. */
  readonly chunks: readonly (string | Buffer)[];
  /** ext_authz dynamic metadata as Envoy forwards it (metadata_options.forwarding_namespaces). */
  readonly authzMetadata?: Record<string, Json>;
}

export function anUpstreamExchange(response: UpstreamResponse): ProcessingRequest[] {
  const metadata: Record<string, Struct> | undefined =
    response.authzMetadata === undefined ? undefined : { 'envoy.filters.http.ext_authz': toStruct(response.authzMetadata) };
  const messages: ProcessingRequest[] = [
    {
      request_headers: {
        headers: headers({
          ':method': 'POST',
          ':path': response.path ?? '/v1/chat/completions',
          'x-request-id': response.requestId,
          ...response.requestHeaders,
        }),
      },
      ...(metadata === undefined ? {} : { metadata_context: { filter_metadata: metadata } }),
    },
    {
      response_headers: {
        headers: headers({ ':status': String(response.status ?? 200), 'content-type': response.contentType ?? 'text/event-stream' }),
      },
    },
  ];
  response.chunks.forEach((chunk, i) => {
    messages.push({
      response_body: { body: typeof chunk === 'string' ? Buffer.from(chunk) : chunk, end_of_stream: i === response.chunks.length - 1 },
    });
  });
  return messages;
}

/**
 * An OpenAI chat stream with its usage in the final chunk, cut into `pieces` chunks. Every chunk
 * carries the response's id, as OpenAI's do: a fresh one unless given.
 */
export function anOpenAiStream(usage: { prompt: number; completion: number }, pieces = 3, id = `chatcmpl-${randomUUID()}`): Buffer[] {
  const text = [
    `data: {"id":"${id}","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"delta":{"content":"Héllo 🌍"}}]}`,
    '',
    `data: {"id":"${id}","object":"chat.completion.chunk","model":"gpt-4o","choices":[],"usage":{"prompt_tokens":${usage.prompt},"completion_tokens":${usage.completion},"total_tokens":${usage.prompt + usage.completion}}}`,
    '',
    'data: [DONE]',
    '',
    '',
  ].join('\n');
  // Cut by bytes, so chunks end inside multi-byte characters as Envoy's do.
  const bytes = Buffer.from(text, 'utf8');
  const size = Math.ceil(bytes.length / pieces);
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}
