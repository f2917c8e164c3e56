/**
 * The ExternalProcessor/Process stream (transport edge): Envoy's messages in, CONTINUE answers
 * out, the exchange's outcome settled once the response is complete or the stream ends.
 * Tollgate never changes the request or the response: metering must not be able to break a call.
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { HeaderValue } from '../envoy/messages';
import type { Logger } from '../observability/logger';
import type { ProcessingRequest, ProcessingResponse } from './ext-proc-messages';
import type { ExternalProcessorHandlers } from './ext-proc-protos';
import type { ExchangeOutcome, MeteredExchange } from './metered-exchange';

export interface ExternalProcessorDeps {
  readonly newExchange: () => MeteredExchange;
  readonly settle: (outcome: ExchangeOutcome) => Promise<void>;
  readonly logger: Logger;
}

/** Envoy sends `raw_value` (bytes) in recent versions and `value` in older ones. */
export function headerMap(headers: readonly HeaderValue[] | undefined): Map<string, string> {
  const map = new Map<string, string>();
  for (const header of headers ?? []) {
    if (header.key === undefined) continue;
    const value = header.value !== undefined && header.value !== '' ? header.value : (header.raw_value?.toString('utf8') ?? '');
    map.set(header.key.toLowerCase(), value);
  }
  return map;
}

const CONTINUE = {};

/** The answer Envoy waits for (same phase, CONTINUE, no mutation); null for a message with none. */
function answerTo(request: ProcessingRequest): ProcessingResponse | null {
  if (request.request_headers !== undefined) return { request_headers: { response: CONTINUE } };
  if (request.response_headers !== undefined) return { response_headers: { response: CONTINUE } };
  if (request.response_body !== undefined) return { response_body: { response: CONTINUE } };
  if (request.request_body !== undefined) return { request_body: { response: CONTINUE } };
  if (request.request_trailers !== undefined) return { request_trailers: {} };
  if (request.response_trailers !== undefined) return { response_trailers: {} };
  return null;
}

/** Feeds one message to the exchange; true when the response is complete. */
function feed(request: ProcessingRequest, exchange: MeteredExchange): boolean {
  if (request.request_headers !== undefined) {
    exchange.onRequestHeaders(headerMap(request.request_headers.headers?.headers), request.metadata_context?.filter_metadata);
    return false;
  }
  if (request.response_headers !== undefined) {
    exchange.onResponseHeaders(headerMap(request.response_headers.headers?.headers));
    return request.response_headers.end_of_stream === true;
  }
  if (request.response_body !== undefined) {
    exchange.onResponseBody(request.response_body.body ?? Buffer.alloc(0));
    return request.response_body.end_of_stream === true;
  }
  return request.response_trailers !== undefined;
}

export function createExternalProcessorHandler(deps: ExternalProcessorDeps): ExternalProcessorHandlers['Process'] {
  return (call: ServerDuplexStream<ProcessingRequest, ProcessingResponse>) => {
    const exchange = deps.newExchange();
    /** `complete`: the response's end was seen; otherwise the stream was cut short. */
    const settle = (complete: boolean): void => {
      if (exchange.finished) return;
      let outcome: ExchangeOutcome;
      try {
        outcome = exchange.finish(complete);
      } catch (error) {
        deps.logger.warn({ err: String(error) }, 'metering: cannot read the response');
        return;
      }
      deps.settle(outcome).catch((error: unknown) => deps.logger.error({ err: String(error) }, 'metering: spend not recorded'));
    };
    call.on('data', (request: ProcessingRequest) => {
      let complete = false;
      try {
        complete = feed(request, exchange);
      } catch (error) {
        deps.logger.warn({ err: String(error) }, 'metering: unreadable ext_proc message');
      }
      // Always answered, so Envoy never waits on metering; in observability mode it reads no answers.
      const answer = answerTo(request);
      if (answer !== null && request.observability_mode !== true && !call.writableEnded) call.write(answer);
      if (complete) settle(true);
    });
    call.on('end', () => {
      settle(false);
      if (!call.writableEnded) call.end();
    });
    call.on('error', () => settle(false));
    call.on('cancelled', () => settle(false));
  };
}
