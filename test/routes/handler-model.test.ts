import { expect } from 'chai';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { buildPolicy } from '../../src/config/policy';
import { UNREAD_MODEL } from '../../src/domain/request';
import { parseCheckRequest } from '../../src/envoy/attributes';
import { identityModelOf } from '../../src/authorize/identity-model';
import { appliesCompletionModel, servedHandlerModelOf, servedModelNamesOf } from '../../src/routes/handler-model';
import { aCheckRequest, edgeSettings } from '../envoy/fixtures';

const policyOf = (line: string): ReturnType<typeof buildPolicy> => buildPolicy(parseLiteLlmConfig(`general_settings:\n  ${line}\n`, {}));

describe("handler's model: general_settings.completion_model, first in LiteLLM's `or`", () => {
  it('is read once with the policy: a non-empty string only ("" is falsy in the `or`, other values are not followed)', () => {
    expect(policyOf('completion_model: gpt-4o').completionModel).to.equal('gpt-4o');
    expect(policyOf('completion_model: ""').completionModel).to.equal(null);
    expect(policyOf('completion_model: null').completionModel).to.equal(null);
    expect(policyOf('completion_model: 4').completionModel).to.equal(null);
    expect(policyOf('master_key: sk-1').completionModel, 'unset').to.equal(null);
  });

  it("applies on every route of the chat, text completions and embeddings handlers, the Responses API's create and Anthropic's messages, and on no other", () => {
    for (const route of [
      '/v1/chat/completions',
      '/chat/completions',
      '/v1/completions',
      '/completions',
      '/v1/embeddings',
      '/embeddings',
      '/openai/deployments/gpt-4o/chat/completions',
      '/engines/x/embeddings',
      '/v1/responses',
      '/responses',
      '/openai/v1/responses',
      '/v1/responses\n',
      '/cursor/chat/completions',
      '/v1/messages',
    ]) {
      expect(appliesCompletionModel(route), route).to.equal(true);
    }
    for (const route of ['/v1/moderations', '/v1/models', '/key/generate', '/v1/images/generations', '/v1/responses/resp_1', '/v1/messages/count_tokens', '/v1/batches']) {
      expect(appliesCompletionModel(route), route).to.equal(false);
    }
  });

  it("wins over the path's and the query's model, and is read as they are (stripped, split on commas)", () => {
    expect(servedHandlerModelOf({ route: '/openai/deployments/a/chat/completions', completionModel: 'b' })).to.equal('b');
    expect(servedHandlerModelOf({ route: '/v1/chat/completions', path: '/v1/chat/completions?model=a', completionModel: 'b' })).to.equal('b');
    expect(servedModelNamesOf({ route: '/v1/embeddings', completionModel: ' b ' })).to.equal('b');
    expect(servedModelNamesOf({ route: '/v1/embeddings', completionModel: 'b, c,b' })).to.deep.equal(['b', 'c']);
    expect(servedModelNamesOf({ route: '/v1/chat/completions', path: '/v1/chat/completions?model=a' }), 'unset: the query').to.equal('a');
  });

  it('is put in the facts only where it applies, and the model checks read it beside the body\'s model, or alone when the body names none', () => {
    const parse = (path: string, body: Record<string, unknown> | null, completionModel: string | null = 'b'): ReturnType<typeof parseCheckRequest> =>
      parseCheckRequest(
        aCheckRequest({ method: 'POST', path, body: body === null ? '' : JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
        edgeSettings(),
        null,
        completionModel,
      );
    const chat = parse('/v1/chat/completions', { model: 'a', messages: [] });
    expect(chat.completionModel).to.equal('b');
    expect(chat.model).to.deep.equal(['a', 'b']);
    expect(identityModelOf(chat), 'the identity names the model served').to.equal('b');
    expect(parse('/v1/chat/completions', { model: 'b', messages: [] }).model, 'the body names it too').to.equal('b');
    expect(parse('/v1/embeddings', { input: 'x' }).model, 'no body model: LiteLLM serves it all the same').to.equal('b');
    expect(parse('/v1/embeddings', { input: 'x' }).namesNoModel, 'and its auth reads none').to.equal(true);
    expect(Object.hasOwn(chat, 'namesNoModel'), 'a body naming one').to.equal(false);
    expect(Object.hasOwn(parse('/openai/deployments/a/chat/completions', { messages: [] }), 'namesNoModel'), "the path's, which LiteLLM's auth reads").to.equal(false);
    expect(parse('/v1/responses', { model: 'a', input: 'x' }).model, 'the Responses API').to.deep.equal(['a', 'b']);
    expect(parse('/v1/messages', { model: 'a', messages: [], max_tokens: 1 }).model, "Anthropic's messages").to.deep.equal(['a', 'b']);
    expect(parse('/openai/deployments/a/chat/completions', { messages: [] }).model, "the path's model: checked as the body's, not served").to.deep.equal(['a', 'b']);
    expect(parse('/v1/chat/completions?model=c', { model: 'a', messages: [] }).model, "the query's is not served").to.deep.equal(['a', 'b']);
    const moderations = parse('/v1/moderations', { model: 'a', input: 'x' });
    expect(moderations.model, 'a route it does not apply to').to.equal('a');
    expect(Object.hasOwn(moderations, 'completionModel')).to.equal(false);
    const unset = parse('/v1/chat/completions', { model: 'a', messages: [] }, null);
    expect(unset.model).to.equal('a');
    expect(Object.hasOwn(unset, 'completionModel'), 'unset: the facts keep their usual shape').to.equal(false);
  });

  it('leaves a body cut before its model unread: its model past the cut is checked too', () => {
    const cut = parseCheckRequest(
      aCheckRequest({ method: 'POST', path: '/v1/chat/completions', body: '{"messages": [', headers: { 'content-type': 'application/json', 'x-envoy-auth-partial-body': 'true' } }),
      edgeSettings(),
      null,
      'b',
    );
    expect(cut.model).to.equal(UNREAD_MODEL);
    expect(cut.completionModel).to.equal('b');
  });

  it('names the model served in the identity for a body cut before its model, which LiteLLM serves it whatever the body holds', () => {
    const cut = (completionModel: string | null): ReturnType<typeof parseCheckRequest> =>
      parseCheckRequest(
        aCheckRequest({ method: 'POST', path: '/v1/chat/completions', body: '{"messages": [', headers: { 'content-type': 'application/json', 'x-envoy-auth-partial-body': 'true' } }),
        edgeSettings(),
        null,
        completionModel,
      );
    expect(identityModelOf(cut('b'))).to.equal('b');
    expect(identityModelOf(cut(' b, c')), 'read as the handler reads it').to.equal('b,c');
    expect(identityModelOf(cut(null)), 'unset: no model to name').to.equal(undefined);
  });
});
