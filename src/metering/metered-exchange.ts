/**
 * One HTTP exchange as ext_proc shows it — request headers, response headers, response body
 * chunks — turned into what to do with its spend. No I/O: the transport feeds it and acts on
 * the outcome.
 *
 * Rules: a response that is not 2xx charges nothing and gives its reservation back; a 2xx with
 * usage is charged at model_list prices; a 2xx without usage (a stream without
 * `stream_options.include_usage`) on a route billed by the token is charged an estimate from the
 * request's length and the text generated (usage-estimate.ts), any other is reported as
 * unmetered; a stream cut before its end is charged for the usage seen so far.
 */
import { randomUUID } from 'node:crypto';
import type { Struct } from '../envoy/messages';
import { NO_ATTRIBUTION, type Attribution, type SpendEvent } from '../spend/spend-event';
import { admissionIdFromMetadata, attributionFromMetadata, EXT_AUTHZ_NAMESPACE } from './admitted-identity';
import type { Correlations } from './correlation';
import { costOf } from './cost';
import type { PriceTable } from './prices';
import { ResponseUsage, type ResponseUsageOptions } from './response-usage';
import { estimatedUsage, isTokenBilled } from './usage-estimate';
import type { Usage } from './usage';

export type ExchangeOutcome =
  | { readonly kind: 'charge'; readonly event: SpendEvent; readonly priced: boolean; readonly estimated: boolean }
  | {
      readonly kind: 'release';
      readonly requestId: string;
      /** The id the Check reserved under ('' for none): what to give back. */
      readonly reservationId: string;
      readonly reason: 'upstream_error' | 'unmetered';
    };

export interface ExchangeDeps {
  readonly correlations: Correlations;
  readonly prices: PriceTable;
  readonly usage: ResponseUsageOptions;
  readonly now: () => number;
}

/** LiteLLM's call_type for the routes that report usage. */
const CALL_TYPES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\/chat\/completions$/, 'acompletion'],
  [/\/completions$/, 'atext_completion'],
  [/\/embeddings$/, 'aembedding'],
  [/\/responses$/, 'aresponses'],
  [/\/messages$/, 'anthropic_messages'],
  [/\/images\/generations$/, 'aimage_generation'],
  [/\/audio\/transcriptions$/, 'atranscription'],
  [/\/audio\/speech$/, 'aspeech'],
];

function callTypeOf(path: string): string {
  const route = path.split('?')[0];
  return CALL_TYPES.find(([pattern]) => pattern.test(route))?.[1] ?? 'pass_through_endpoint';
}

/**
 * The id a charge is counted once by and logged under. Envoy keeps a client-sent x-request-id on
 * requests it deems internal (any RFC1918 peer by default), so the x-request-id alone would let a
 * client repeat one and have every later response taken for a replay of the first. The provider's
 * response id makes it one per response, still the same when the very same exchange is replayed;
 * without one, an id minted for this exchange does. LiteLLM logs under the response id (or its own
 * call id), never a client header.
 */
export function chargeIdOf(requestId: string, responseId: string | null, exchangeId: string): string {
  if (requestId === '') return exchangeId;
  return `${requestId}:${responseId ?? exchangeId}`;
}

export class MeteredExchange {
  private readonly exchangeId = randomUUID();
  private requestId = '';
  /** The Check's admission id; the x-request-id for a Check of a version that reserved under it. */
  private reservationId = '';
  private attribution: Attribution = NO_ATTRIBUTION;
  private startedAt: number;
  private path = '';
  private method = '';
  /** The request body's declared length (0 when unknown): the input of an estimate. */
  private requestBytes = 0;
  private status: number | null = null;
  private response: ResponseUsage | null = null;
  private firstByteAt: number | null = null;
  private done = false;

  constructor(private readonly deps: ExchangeDeps) {
    this.startedAt = deps.now();
  }

  get finished(): boolean {
    return this.done;
  }

  onRequestHeaders(headers: ReadonlyMap<string, string>, metadata: Record<string, Struct> | undefined): void {
    this.requestId = headers.get('x-request-id') ?? '';
    this.path = headers.get(':path') ?? '';
    this.method = (headers.get(':method') ?? '').toUpperCase();
    const declared = Number(headers.get('content-length'));
    this.requestBytes = Number.isSafeInteger(declared) && declared > 0 ? declared : 0;
    const admissionId = admissionIdFromMetadata(metadata);
    // This replica's own Check first (it knows the tags for sure), else what Envoy forwarded.
    const forwarded = metadata?.[EXT_AUTHZ_NAMESPACE] !== undefined;
    const admitted = this.deps.correlations.take(admissionId, this.requestId, forwarded);
    if (admitted !== null) {
      this.attribution = admitted.attribution;
      this.startedAt = admitted.admittedAt;
      this.reservationId = admissionId ?? admitted.admissionId ?? this.requestId;
    } else {
      this.attribution = attributionFromMetadata(metadata) ?? NO_ATTRIBUTION;
      this.reservationId = admissionId ?? this.requestId;
    }
  }

  onResponseHeaders(headers: ReadonlyMap<string, string>): void {
    const status = Number(headers.get(':status'));
    this.status = Number.isInteger(status) ? status : null;
    this.response = new ResponseUsage(headers.get('content-type') ?? null, headers.get('content-encoding') ?? null, this.deps.usage);
  }

  onResponseBody(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.firstByteAt ??= this.deps.now();
    this.response?.push(chunk);
  }

  /**
   * Once per exchange: at end of stream (`complete`), or when the stream was cut short. A cut
   * stream may have reported its usage only in part (Anthropic's `message_start` says 1 output
   * token; the final count comes in `message_delta`): its output is then at least what the text
   * it generated is estimated at, as the provider bills what it generated.
   */
  finish(complete = true): ExchangeOutcome {
    this.done = true;
    const status = this.status;
    if (status === null || status < 200 || status >= 300 || this.response === null) {
      return this.release('upstream_error');
    }
    // Only a POST asks for work: a GET of a stored response (`/v1/responses/{id}`, a chat
    // completion by id, a run being polled) returns the usage it was charged for already.
    if (this.method !== 'POST') return this.release('unmetered');
    const { usage: reported, model, responseId, generatedBytes } = this.response.finish();
    const callType = callTypeOf(this.path);
    const usage =
      reported === null
        ? isTokenBilled(callType)
          ? estimatedUsage(this.requestBytes, generatedBytes)
          : null
        : complete || !isTokenBilled(callType)
          ? reported
          : atLeastGenerated(reported, generatedBytes);
    if (usage === null) return this.release('unmetered');
    const estimated = reported === null;
    const price = this.deps.prices.priceOf(this.attribution.model, model);
    const event: SpendEvent = {
      chargeId: chargeIdOf(this.requestId, responseId, this.exchangeId),
      requestId: this.requestId,
      reservationId: this.reservationId,
      callType,
      attribution: { ...this.attribution, tags: [...this.attribution.tags] },
      model: model ?? this.attribution.model ?? '',
      usage,
      cost: price === null ? 0 : costOf(usage, price),
      startTime: this.startedAt,
      endTime: this.deps.now(),
      completionStartTime: this.firstByteAt,
      ...(estimated ? { usageEstimated: true } : {}),
    };
    return { kind: 'charge', event, priced: price !== null, estimated };
  }

  private release(reason: 'upstream_error' | 'unmetered'): ExchangeOutcome {
    return { kind: 'release', requestId: this.requestId, reservationId: this.reservationId, reason };
  }
}

/** The reported usage with its output raised to the estimate of the text generated, when that is more. */
function atLeastGenerated(reported: Usage, generatedBytes: number): Usage {
  const generated = estimatedUsage(0, generatedBytes)?.outputTokens ?? 0;
  return generated > reported.outputTokens ? { ...reported, outputTokens: generated } : reported;
}
