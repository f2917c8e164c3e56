import { expect } from 'chai';
import { toStruct } from '../../src/envoy/messages';
import { Correlations } from '../../src/metering/correlation';
import { MeteredExchange } from '../../src/metering/metered-exchange';
import { PriceTable } from '../../src/metering/prices';
import { DEFAULT_RESPONSE_USAGE_OPTIONS } from '../../src/metering/response-usage';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { NO_ATTRIBUTION, type Attribution } from '../../src/spend/spend-event';

const PRICES = new PriceTable(
  parseLiteLlmConfig('model_list:\n  - model_name: gpt-4o\n    litellm_params: { model: openai/gpt-4o, input_cost_per_token: 0.001, output_cost_per_token: 0.002 }\n', {}),
);
const ATTRIBUTION: Attribution = { ...NO_ATTRIBUTION, keyHash: 'k'.repeat(64), teamId: 'team-1', tags: ['prod'], model: 'gpt-4o' };
const SSE = 'data: {"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5}}\n\ndata: [DONE]\n\n';

function exchange(correlations = new Correlations(60_000, 10, () => 1_000), now = () => 2_000) {
  return new MeteredExchange({ correlations, prices: PRICES, usage: DEFAULT_RESPONSE_USAGE_OPTIONS, now });
}

const requestHeaders = (requestId: string, path = '/v1/chat/completions', method = 'POST') =>
  new Map([
    [':method', method],
    [':path', path],
    ['x-request-id', requestId],
  ]);

describe('metering: one exchange from request headers to its spend', () => {
  it("charges a 2xx stream to the identity this replica's Check remembered, from Check time", () => {
    const correlations = new Correlations(60_000, 10, () => 1_000);
    correlations.remember('req-1', { attribution: ATTRIBUTION, admittedAt: 1_000, admissionId: null });
    const meter = exchange(correlations);
    meter.onRequestHeaders(requestHeaders('req-1'), undefined);
    meter.onResponseHeaders(new Map([[':status', '200'], ['content-type', 'text/event-stream']]));
    meter.onResponseBody(Buffer.from(SSE));
    const outcome = meter.finish();
    expect(outcome.kind).to.equal('charge');
    if (outcome.kind !== 'charge') return;
    expect(outcome.event).to.deep.include({ requestId: 'req-1', callType: 'acompletion', cost: 10 * 0.001 + 5 * 0.002, startTime: 1_000, endTime: 2_000 });
    expect(outcome.event.attribution).to.deep.equal({ ...ATTRIBUTION, tags: ['prod'] });
    expect(correlations.size, 'taken once').to.equal(0);
  });

  it('falls back to the ext_authz metadata Envoy forwards (Check answered by another replica)', () => {
    const meter = exchange();
    const metadata = { 'envoy.filters.http.ext_authz': toStruct({ key_hash: 'abc', team_id: 't', end_user_id: 'cust', model: 'gpt-4o', request_tags: ['a', 1] }) };
    meter.onRequestHeaders(requestHeaders('req-2', '/v1/embeddings'), metadata);
    meter.onResponseHeaders(new Map([[':status', '200'], ['content-type', 'application/json']]));
    meter.onResponseBody(Buffer.from('{"usage":{"prompt_tokens":8,"total_tokens":8}}'));
    const outcome = meter.finish();
    expect(outcome.kind === 'charge' && outcome.event.attribution).to.deep.equal({
      keyHash: 'abc',
      userId: null,
      teamId: 't',
      orgId: null,
      projectId: null,
      endUserId: 'cust',
      tags: ['a'],
      model: 'gpt-4o',
    });
    expect(outcome.kind === 'charge' && outcome.event.callType).to.equal('aembedding');
  });

  it('charges nothing and releases the reservation when the upstream answers an error', () => {
    const meter = exchange();
    meter.onRequestHeaders(requestHeaders('req-3'), undefined);
    meter.onResponseHeaders(new Map([[':status', '429'], ['content-type', 'application/json']]));
    meter.onResponseBody(Buffer.from('{"error":{},"usage":{"prompt_tokens":1}}'));
    expect(meter.finish()).to.deep.equal({ kind: 'release', requestId: 'req-3', reservationId: 'req-3', reason: 'upstream_error' });
  });

  it('charges nothing for a GET of a stored response, whose usage was charged when it was made', () => {
    for (const [method, path] of [['GET', '/v1/responses/resp_1'], ['GET', '/v1/chat/completions/chatcmpl-1'], ['DELETE', '/v1/responses/resp_1']]) {
      const meter = exchange();
      meter.onRequestHeaders(requestHeaders('req-get', path, method), undefined);
      meter.onResponseHeaders(new Map([[':status', '200'], ['content-type', 'application/json']]));
      meter.onResponseBody(Buffer.from('{"id":"resp_1","model":"gpt-4o","usage":{"input_tokens":150000,"output_tokens":10}}'));
      expect(meter.finish(), `${method} ${path}`).to.deep.equal({ kind: 'release', requestId: 'req-get', reservationId: 'req-get', reason: 'unmetered' });
    }
  });

  it('reports a success without usage as unmetered where nothing is billed by the token, and a stream cut short is charged what it reported', () => {
    const unmetered = exchange();
    unmetered.onRequestHeaders(requestHeaders('req-4', '/v1/images/generations'), undefined);
    unmetered.onResponseHeaders(new Map([[':status', '200'], ['content-type', 'application/json']]));
    unmetered.onResponseBody(Buffer.from('{"created":1,"data":[{"url":"https://example.com/a.png"}]}'));
    expect(unmetered.finish()).to.deep.equal({ kind: 'release', requestId: 'req-4', reservationId: 'req-4', reason: 'unmetered' });

    const cut = exchange();
    cut.onRequestHeaders(requestHeaders('req-5', '/v1/messages'), undefined);
    cut.onResponseHeaders(new Map([[':status', '200'], ['content-type', 'text/event-stream']]));
    cut.onResponseBody(Buffer.from('event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":7,"output_tokens":1}}}\n\nevent: content_block_del'));
    const outcome = cut.finish();
    expect(outcome.kind === 'charge' && outcome.event.usage).to.deep.equal({ inputTokens: 7, cacheReadTokens: 0, cacheCreationTokens: 0, outputTokens: 1 });
    expect(outcome.kind === 'charge' && outcome.priced, 'no model known: recorded at zero cost, flagged').to.equal(false);
    expect(outcome.kind === 'charge' && outcome.estimated, 'reported usage is not an estimate').to.equal(false);
    expect(outcome.kind === 'charge' && outcome.event.usageEstimated).to.equal(undefined);
  });

  it("charges a cut Anthropic stream at least the text it generated: message_start's 1 output token is not the count", () => {
    const text = 'word '.repeat(2_000); // 10 000 bytes: 2 500 tokens at four bytes a token
    const stream =
      'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":7,"output_tokens":1}}}\n\n' +
      `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } })}\n\n`;
    const outputOf = (complete: boolean) => {
      const meter = exchange();
      meter.onRequestHeaders(requestHeaders('req-cut', '/v1/messages'), undefined);
      meter.onResponseHeaders(new Map([[':status', '200'], ['content-type', 'text/event-stream']]));
      meter.onResponseBody(Buffer.from(stream));
      const outcome = meter.finish(complete);
      return outcome.kind === 'charge' ? outcome.event.usage.outputTokens : null;
    };
    expect(outputOf(false), 'cut: the estimate of what it generated').to.equal(2_500);
    expect(outputOf(true), 'ended: what the provider reported').to.equal(1);
  });
});

describe('metering: a success that reports no usage is charged an estimate', () => {
  function estimateOf(path: string, contentLength: string | null, contentType: string, body: string): ReturnType<MeteredExchange['finish']> {
    const correlations = new Correlations(60_000, 10, () => 1_000);
    correlations.remember('req-e', { attribution: ATTRIBUTION, admittedAt: 1_000, admissionId: null });
    const meter = exchange(correlations);
    const headers = requestHeaders('req-e', path);
    if (contentLength !== null) headers.set('content-length', contentLength);
    meter.onRequestHeaders(headers, undefined);
    meter.onResponseHeaders(new Map([[':status', '200'], ['content-type', contentType]]));
    const bytes = Buffer.from(body);
    // As Envoy streams it: chunks that cut events, and multi-byte characters, anywhere.
    for (let i = 0; i < bytes.length; i += 7) meter.onResponseBody(bytes.subarray(i, i + 7));
    return meter.finish();
  }

  const chatStream = (...deltas: object[]): string =>
    deltas.map((delta) => `data: ${JSON.stringify({ id: 'chatcmpl-9', model: 'gpt-4o-2024-08-06', choices: [{ index: 0, delta }] })}\n\n`).join('') + 'data: [DONE]\n\n';

  it('an OpenAI chat stream without include_usage: the request length and the text, tool calls and refusals it generated', () => {
    const body = chatStream(
      { role: 'assistant', content: '' },
      { content: 'Hello, ' },
      { content: 'world — ünïcode' },
      { tool_calls: [{ index: 0, id: 'call_1', function: { name: 'lookup', arguments: '{"q":' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '"x"}' } }] },
      { refusal: 'no' },
      {},
    );
    const generated = Buffer.byteLength('Hello, world — ünïcodelookup{"q":"x"}no');
    const outcome = estimateOf('/v1/chat/completions', '401', 'text/event-stream', body);
    expect(outcome.kind).to.equal('charge');
    if (outcome.kind !== 'charge') return;
    const usage = { inputTokens: Math.ceil(401 / 4), cacheReadTokens: 0, cacheCreationTokens: 0, outputTokens: Math.ceil(generated / 4) };
    expect(outcome.event.usage).to.deep.equal(usage);
    expect(outcome.event.cost).to.be.closeTo(usage.inputTokens * 0.001 + usage.outputTokens * 0.002, 1e-12);
    expect(outcome).to.deep.include({ estimated: true, priced: true });
    expect(outcome.event).to.deep.include({ usageEstimated: true, chargeId: 'req-e:chatcmpl-9', model: 'gpt-4o-2024-08-06' });
    expect(outcome.event.attribution.keyHash).to.equal(ATTRIBUTION.keyHash);
  });

  it('an Anthropic stream without usage: text, thinking and tool-input deltas', () => {
    const events = [
      { type: 'message_start', message: { id: 'msg_1', model: 'claude' } },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: '日本語' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"a":1}' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'signature_delta', signature: 'c2lnbmF0dXJl' } },
      { type: 'message_stop' },
    ];
    const body = events.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`).join('');
    const outcome = estimateOf('/v1/messages', '80', 'text/event-stream', body);
    expect(outcome.kind === 'charge' && outcome.event.usage).to.deep.equal({
      inputTokens: 20,
      cacheReadTokens: 0,
      cacheCreationTokens: 0,
      outputTokens: Math.ceil(Buffer.byteLength('hmm日本語{"a":1}') / 4),
    });
  });

  it('a Responses API stream: deltas only, never the events that repeat them, never audio', () => {
    const events = [
      { type: 'response.created', response: { id: 'resp_1', output: [] } },
      { type: 'response.output_text.delta', delta: 'abcd' },
      { type: 'response.function_call_arguments.delta', delta: 'efgh' },
      { type: 'response.audio.delta', delta: 'QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB' },
      { type: 'response.output_text.done', text: 'abcd' },
      { type: 'response.completed', response: { id: 'resp_1', output: [{ type: 'message', content: [{ type: 'output_text', text: 'abcd' }] }] } },
    ];
    const body = events.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`).join('');
    const outcome = estimateOf('/v1/responses', null, 'text/event-stream', body);
    expect(outcome.kind === 'charge' && outcome.event.usage).to.deep.equal({ inputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0, outputTokens: 2 });
  });

  it('a JSON body without usage: the message it returned', () => {
    const body = JSON.stringify({ id: 'chatcmpl-2', choices: [{ message: { role: 'assistant', content: 'twelve bytes' } }] });
    const outcome = estimateOf('/v1/chat/completions', '40', 'application/json', body);
    expect(outcome.kind === 'charge' && outcome.event.usage).to.deep.equal({ inputTokens: 10, cacheReadTokens: 0, cacheCreationTokens: 0, outputTokens: 3 });
  });

  it('releases as unmetered when there is nothing to estimate from: no length declared, no text generated', () => {
    expect(estimateOf('/v1/chat/completions', null, 'text/event-stream', chatStream({ role: 'assistant' }, {}))).to.deep.equal({
      kind: 'release',
      requestId: 'req-e',
      reservationId: 'req-e',
      reason: 'unmetered',
    });
    expect(estimateOf('/v1/chat/completions', 'abc', 'text/event-stream', 'data: [DONE]\n\n')).to.deep.include({ kind: 'release' });
  });
});

describe('metering: the charge id a response is counted once by', () => {
  const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

  function chargeOf(requestId: string | null, body: string): { chargeId: string; requestId: string } {
    const meter = exchange();
    const headers = requestHeaders(requestId ?? '');
    if (requestId === null) headers.delete('x-request-id');
    meter.onRequestHeaders(headers, undefined);
    meter.onResponseHeaders(new Map([[':status', '200'], ['content-type', 'text/event-stream']]));
    meter.onResponseBody(Buffer.from(body));
    const outcome = meter.finish();
    if (outcome.kind !== 'charge') throw new Error(`expected a charge, got ${outcome.kind}`);
    return { chargeId: outcome.event.chargeId, requestId: outcome.event.requestId };
  }

  const withId = (id: string): string => `data: {"id":"${id}","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5}}\n\ndata: [DONE]\n\n`;

  it("is the x-request-id and the provider's response id; the log row keeps the x-request-id", () => {
    expect(chargeOf('req-same', withId('chatcmpl-1'))).to.deep.equal({ chargeId: 'req-same:chatcmpl-1', requestId: 'req-same' });
    expect(chargeOf('req-same', withId('chatcmpl-2')).chargeId, 'another response under a repeated x-request-id').to.equal('req-same:chatcmpl-2');
  });

  it('is the x-request-id and an id minted for the exchange when the response carries none', () => {
    const first = chargeOf('req-same', SSE);
    const second = chargeOf('req-same', SSE);
    expect(first.chargeId).to.match(new RegExp(`^req-same:${UUID.source}$`));
    expect(second.chargeId).to.not.equal(first.chargeId);
    expect(first.requestId).to.equal('req-same');
  });

  it('is a fresh uuid when the request had no x-request-id', () => {
    const charge = chargeOf(null, withId('chatcmpl-1'));
    expect(charge.chargeId).to.match(new RegExp(`^${UUID.source}$`));
    expect(charge.requestId).to.equal('');
  });
});

describe('metering: Check ↔ ext_proc correlation', () => {
  it('forgets entries after their TTL and beyond its size, oldest first', () => {
    let now = 0;
    const correlations = new Correlations(1_000, 2, () => now);
    correlations.remember('a', { attribution: NO_ATTRIBUTION, admittedAt: 0, admissionId: null });
    correlations.remember('b', { attribution: NO_ATTRIBUTION, admittedAt: 0, admissionId: null });
    correlations.remember('c', { attribution: NO_ATTRIBUTION, admittedAt: 0, admissionId: null });
    expect(correlations.take(null, 'a')).to.equal(null);
    expect(correlations.take(null, 'b')).to.not.equal(null);
    now = 1_001;
    expect(correlations.take(null, 'c'), 'expired').to.equal(null);
    correlations.remember('', { attribution: NO_ATTRIBUTION, admittedAt: now, admissionId: null });
    expect(correlations.size, 'no request id: nothing to join on').to.equal(0);
  });
});

describe('metering: two requests under one x-request-id (Envoy keeps a client-sent one for internal peers)', () => {
  const ALICE: Attribution = { ...ATTRIBUTION, keyHash: 'a'.repeat(64), teamId: 'team-a' };
  const BOB: Attribution = { ...ATTRIBUTION, keyHash: 'b'.repeat(64), teamId: 'team-b' };
  const forwarded = (admissionId: string, attribution: Attribution) => ({
    'envoy.filters.http.ext_authz': toStruct({ admission_id: admissionId, key_hash: attribution.keyHash, team_id: attribution.teamId }),
  });

  function settled(correlations: Correlations, metadata: ReturnType<typeof forwarded> | undefined, status = '200') {
    const meter = exchange(correlations);
    meter.onRequestHeaders(requestHeaders('same-id'), metadata);
    meter.onResponseHeaders(new Map([[':status', status], ['content-type', 'text/event-stream']]));
    meter.onResponseBody(Buffer.from(SSE));
    return meter.finish();
  }

  it('charges each response to its own Check and gives back its own reservation, whichever settles first', () => {
    const correlations = new Correlations(60_000, 10, () => 1_000);
    correlations.remember('same-id', { attribution: ALICE, admittedAt: 1_000, admissionId: 'adm-alice' });
    correlations.remember('same-id', { attribution: BOB, admittedAt: 1_000, admissionId: 'adm-bob' });
    const alice = settled(correlations, forwarded('adm-alice', ALICE));
    const bob = settled(correlations, forwarded('adm-bob', BOB), '500');
    if (alice.kind !== 'charge') throw new Error(`expected a charge, got ${JSON.stringify(alice)}`);
    expect(alice.event.attribution.keyHash).to.equal(ALICE.keyHash);
    expect(alice.event.reservationId).to.equal('adm-alice');
    expect(bob).to.deep.equal({ kind: 'release', requestId: 'same-id', reservationId: 'adm-bob', reason: 'upstream_error' });
    expect(correlations.size).to.equal(0);
  });

  it('reads the admission id Envoy forwarded when another replica answered the Check', () => {
    const outcome = settled(new Correlations(60_000, 10, () => 1_000), forwarded('adm-elsewhere', BOB));
    if (outcome.kind !== 'charge') throw new Error(`expected a charge, got ${JSON.stringify(outcome)}`);
    expect(outcome.event.attribution.keyHash).to.equal(BOB.keyHash);
    expect(outcome.event.reservationId).to.equal('adm-elsewhere');
  });

  it('falls back to the latest Check under the x-request-id when Envoy forwards no metadata, and releases that Check\'s reservation', () => {
    const correlations = new Correlations(60_000, 10, () => 1_000);
    correlations.remember('same-id', { attribution: ALICE, admittedAt: 1_000, admissionId: 'adm-alice' });
    correlations.remember('same-id', { attribution: BOB, admittedAt: 1_000, admissionId: 'adm-bob' });
    const outcome = settled(correlations, undefined);
    if (outcome.kind !== 'charge') throw new Error(`expected a charge, got ${JSON.stringify(outcome)}`);
    expect(outcome.event.attribution.keyHash).to.equal(BOB.keyHash);
    expect(outcome.event.reservationId).to.equal('adm-bob');
    // Alice's entry stays for her own stream, should it carry her admission id after all.
    expect(correlations.take('adm-alice', 'same-id')?.attribution.keyHash).to.equal(ALICE.keyHash);
  });

  it("never joins a stream whose forwarded metadata names no admission to an admitted Check (the master key's stream is not the key's)", () => {
    const correlations = new Correlations(60_000, 10, () => 1_000);
    correlations.remember('same-id', { attribution: BOB, admittedAt: 1_000, admissionId: null });
    correlations.remember('same-id', { attribution: ALICE, admittedAt: 1_000, admissionId: 'adm-alice' });
    const unadmitted = { 'envoy.filters.http.ext_authz': toStruct({ user_id: 'admin' }) };
    const outcome = settled(correlations, unadmitted);
    if (outcome.kind !== 'charge') throw new Error(`expected a charge, got ${JSON.stringify(outcome)}`);
    expect(outcome.event.attribution.keyHash).to.equal(BOB.keyHash);
    expect(outcome.event.reservationId, "nobody's reservation").to.equal('same-id');
    expect(correlations.take('adm-alice', 'same-id')?.attribution.keyHash, "Alice's entry waits for her stream").to.equal(ALICE.keyHash);
  });

  it('keeps the x-request-id as the reservation of a Check made by a version that reserved under it', () => {
    const correlations = new Correlations(60_000, 10, () => 1_000);
    correlations.remember('same-id', { attribution: ALICE, admittedAt: 1_000, admissionId: null });
    const outcome = settled(correlations, undefined, '429');
    expect(outcome).to.deep.equal({ kind: 'release', requestId: 'same-id', reservationId: 'same-id', reason: 'upstream_error' });
  });
});

describe('metering: the correlation map under one x-request-id', () => {
  it('evicts by admission id without losing the x-request-id of a later Check', () => {
    let now = 0;
    const correlations = new Correlations(1_000, 1, () => now);
    correlations.remember('rid', { attribution: NO_ATTRIBUTION, admittedAt: 0, admissionId: 'first' });
    now = 10;
    correlations.remember('rid', { attribution: NO_ATTRIBUTION, admittedAt: 10, admissionId: 'second' });
    expect(correlations.size).to.equal(1);
    expect(correlations.take(null, 'rid')?.admissionId).to.equal('second');
    expect(correlations.take('first', 'rid')).to.equal(null);
  });
});
