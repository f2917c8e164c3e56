import type { VirtualKey } from '../../src/domain/entities';
import { expect } from 'chai';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { buildPolicy } from '../../src/config/policy';
import { UNREAD_MODEL } from '../../src/domain/request';
import { handlerModelOf, limiterModelOf, v3ModelOf } from '../../src/ratelimit/limiter-model';
import { rateLimitsOf } from '../../src/ratelimit/rate-limits';
import { aKey, aPolicy, aSnapshot, aTeam } from '../checks/fixtures';
import { parseCheckRequest } from '../../src/envoy/attributes';
import { aCheckRequest, edgeSettings } from '../envoy/fixtures';

/** A key row carrying LiteLLM's `aliases` column. */
function aVirtualKey(aliases: Readonly<Record<string, string>>, overrides: Parameters<typeof aKey>[0] = {}): VirtualKey {
  return Object.freeze({ ...aKey(overrides), aliases: Object.freeze({ ...aliases }) });
}

describe('rate limits: the model v3 limits (data["model"] after the aliases rewrote it)', () => {
  const policy = buildPolicy(parseLiteLlmConfig(['litellm_settings:', '  model_alias_map: { gpt4: gpt-4o, mini: gpt-4o-mini, "": gpt-4o }'].join('\n'), {}));
  const plain = aSnapshot({ key: aKey() });

  it("rewrites a name litellm_settings.model_alias_map holds to its target (common_processing_pre_call_logic), for every caller", () => {
    expect(limiterModelOf(plain, 'gpt4', policy)).to.equal('gpt-4o');
    expect(limiterModelOf(aSnapshot({ key: null }), 'gpt4', policy), 'the master key or a JWT caller').to.equal('gpt-4o');
    expect(limiterModelOf(plain, 'gpt-4o', policy), 'a name no alias holds').to.equal('gpt-4o');
    expect(limiterModelOf(plain, 'gpt4', null), 'without a policy').to.equal('gpt4');
  });

  it("rewrites through the key's team model aliases first, then the key's aliases, then the map, then the key's aliases again (one lookup each)", () => {
    const key = aVirtualKey({ 'team-target': 'gpt4', 'gpt-4o': 'gpt-4o-2024' }, { team_id: 'team-1' });
    const team = aTeam({ team_id: 'team-1', model_aliases: { fast: 'team-target' } });
    // fast → team-target (team) → gpt4 (key) → gpt-4o (map) → gpt-4o-2024 (key again)
    expect(limiterModelOf(aSnapshot({ key, team }), 'fast', policy)).to.equal('gpt-4o-2024');
    // No step looks twice: the team's target is not looked up among the team's aliases again.
    const chained = aTeam({ team_id: 'team-1', model_aliases: { a: 'b', b: 'c' } });
    expect(limiterModelOf(aSnapshot({ key: aKey({ team_id: 'team-1' }), team: chained }), 'a', null)).to.equal('b');
  });

  it("reads the key's own aliases alone when the key has no team, and team aliases only for a virtual key (valid_token.team_model_aliases)", () => {
    expect(limiterModelOf(aSnapshot({ key: aVirtualKey({ mine: 'gpt-4o-mini' }) }), 'mine', policy)).to.equal('gpt-4o-mini');
    const team = aTeam({ team_id: 'team-1', model_aliases: { fast: 'gpt-4o' } });
    expect(limiterModelOf(aSnapshot({ key: null, team }), 'fast', null), 'a JWT caller of the team').to.equal('fast');
  });

  it('skips the team and key steps for an empty name (LiteLLM: `if _model and …`), which the map still rewrites', () => {
    const key = aVirtualKey({ '': 'gpt-4o-mini' }, { team_id: 'team-1' });
    const team = aTeam({ team_id: 'team-1', model_aliases: { '': 'team-model' } });
    expect(limiterModelOf(aSnapshot({ key, team }), '', policy)).to.equal('gpt-4o');
  });

  it('rewrites an empty name left by the team step through the key\'s aliases after the map (LiteLLM checks only `isinstance(…, str)` there)', () => {
    const key = aVirtualKey({ '': 'gpt-4o-mini' }, { team_id: 'team-1' });
    const team = aTeam({ team_id: 'team-1', model_aliases: { fast: '' } });
    // fast → "" (team); the key step before the map skips "", the map holds no "", the key step after it reads it.
    expect(limiterModelOf(aSnapshot({ key, team }), 'fast', null)).to.equal('gpt-4o-mini');
  });

  it('rewrites each name of a list, repeats dropped; a list no alias touches, a request naming no model and an unread model come back as they are', () => {
    const list = Object.freeze(['gpt-4o', 'mini']);
    expect(limiterModelOf(plain, Object.freeze(['gpt4', 'gpt-4o', 'mini']), policy)).to.deep.equal(['gpt-4o', 'gpt-4o-mini']);
    const untouched = Object.freeze(['gpt-4o', 'o1']);
    expect(limiterModelOf(plain, untouched, policy)).to.equal(untouched);
    expect(limiterModelOf(plain, list, policy)).to.deep.equal(['gpt-4o', 'gpt-4o-mini']);
    expect(limiterModelOf(plain, null, policy)).to.equal(null);
    expect(limiterModelOf(plain, UNREAD_MODEL, policy)).to.equal(UNREAD_MODEL);
  });

  it('ignores an alias whose target is not a string (a row can hold any JSON), and reads the map of a policy not built by buildPolicy from its record', () => {
    const odd = { ...aKey(), aliases: { gpt4: 5 } } as unknown as VirtualKey;
    expect(limiterModelOf(aSnapshot({ key: odd }), 'gpt4', null)).to.equal('gpt4');
    expect(limiterModelOf(plain, 'gpt4', aPolicy({ modelAliasMap: { gpt4: 'gpt-4o' } }))).to.equal('gpt-4o');
  });

  it('builds the map once with the policy, null when the config has none', () => {
    expect(policy.modelAliasTargets?.get('gpt4')).to.equal('gpt-4o');
    expect(buildPolicy(parseLiteLlmConfig('model_list: []\n', {})).modelAliasTargets).to.equal(null);
  });
});

describe("rate limits: the handler's own model parameter (the path's or the query's), which replaces the body's before the map", () => {
  const policy = buildPolicy(parseLiteLlmConfig(['litellm_settings:', '  model_alias_map: { gpt4: gpt-4o }'].join('\n'), {}));
  const request = (route: string, query = ''): { route: string; path: string } => ({ route, path: `${route}${query}` });

  it("reads the path's model of /engines/{model}/… and /openai/deployments/{model}/…, and the query's last ?model= on the other routes of the chat, completions and embeddings handlers", () => {
    expect(handlerModelOf(request('/openai/deployments/gpt-4o/chat/completions'))).to.equal('gpt-4o');
    expect(handlerModelOf(request('/engines/org/model/chat/completions')), 'a {model:path} holds slashes').to.equal('org/model');
    expect(handlerModelOf(request('/engines/a/chat/completions')), "chat's route, not completions' with model a/chat").to.equal('a');
    expect(handlerModelOf(request('/openai/deployments/text-embedding-3/embeddings'))).to.equal('text-embedding-3');
    expect(handlerModelOf(request('/v1/chat/completions', '?model=o3&model=gpt-4o'))).to.equal('gpt-4o');
    expect(handlerModelOf(request('/embeddings', '?model=text%2Dembedding'))).to.equal('text-embedding');
    expect(handlerModelOf(request('/v1/chat/completions', '?model=')), 'an empty one: `or` passes over it').to.equal(null);
    expect(handlerModelOf(request('/v1/chat/completions')), 'no query').to.equal(null);
    expect(handlerModelOf(request('/v1/chat/completions', '#?model=o3')), 'a fragment, no query').to.equal(null);
    expect(handlerModelOf(request('/v1/chat/completions', '?model=o3#model=o1')), 'the fragment is no part of the query').to.equal('o3');
    expect(handlerModelOf(request('/v1/responses', '?model=o3')), 'a handler without the parameter').to.equal(null);
    expect(handlerModelOf({ route: '/v1/chat/completions' }), 'no raw path').to.equal(null);
  });

  it("limits the path's model alone, through the map and the key's aliases: it replaces the body's model and what the team's and the key's aliases made of it", () => {
    const key = aVirtualKey({ fast: 'o3', 'gpt-4o': 'gpt-4o-2024' }, { team_id: 'team-1' });
    const team = aTeam({ team_id: 'team-1', model_aliases: { fast: 'o1' } });
    const snapshot = aSnapshot({ key, team });
    // The body's `fast` is dropped; the path's gpt4 → gpt-4o (map) → gpt-4o-2024 (key).
    expect(limiterModelOf(snapshot, 'fast', policy, request('/openai/deployments/gpt4/chat/completions'))).to.equal('gpt-4o-2024');
    expect(v3ModelOf(snapshot, 'fast', policy, request('/openai/deployments/gpt4/chat/completions'))).to.equal('gpt-4o-2024');
    expect(limiterModelOf(aSnapshot({ key: aKey() }), UNREAD_MODEL, policy, request('/engines/gpt4/completions')), 'a body cut before its model').to.equal('gpt-4o');
    expect(limiterModelOf(snapshot, 'fast', policy, request('/v1/chat/completions')), 'no parameter: the body model through every step').to.equal('o1');
  });

  it("limits the query's model and the body's both (LiteLLM serves the first, another upstream the second), and names the query's as the one v3 reads", () => {
    const key = aVirtualKey({ fast: 'o3', 'gpt-4o': 'gpt-4o-2024' }, { team_id: 'team-1' });
    const team = aTeam({ team_id: 'team-1', model_aliases: { fast: 'o1' } });
    const snapshot = aSnapshot({ key, team });
    const viaQuery = request('/v1/chat/completions', '?model=gpt4');
    expect(limiterModelOf(snapshot, 'fast', policy, viaQuery)).to.deep.equal(['o1', 'gpt-4o-2024']);
    expect(v3ModelOf(snapshot, 'fast', policy, viaQuery), "data['model']: the query's, the body's and its aliases dropped").to.equal('gpt-4o-2024');
    const plain = aSnapshot({ key: aKey() });
    expect(limiterModelOf(plain, 'gpt-4o', policy, viaQuery), 'both name one model').to.equal('gpt-4o');
    expect(limiterModelOf(plain, Object.freeze(['o3', 'o1']), policy, viaQuery), 'a list in the body').to.deep.equal(['o3', 'o1', 'gpt-4o']);
    expect(limiterModelOf(plain, UNREAD_MODEL, policy, viaQuery), 'a body cut before its model: every per-model limit').to.equal(UNREAD_MODEL);
    expect(limiterModelOf(plain, null, policy, viaQuery), 'no body model').to.equal('gpt-4o');
  });

  it("counts the query's model once, as the handler's (no team or key alias), though the model checks read it after the body's", () => {
    const key = aVirtualKey({}, { team_id: 'team-1' });
    const team = aTeam({ team_id: 'team-1', model_aliases: { gpt4: 'team-gpt' } });
    const snapshot = aSnapshot({ key, team });
    const facts = parseCheckRequest(
      aCheckRequest({ method: 'POST', path: '/v1/chat/completions?model=gpt4', body: JSON.stringify({ model: 'o3', messages: [] }) }),
      edgeSettings(),
    );
    expect(facts.model, 'the model checks read both').to.deep.equal(['o3', 'gpt4']);
    // LiteLLM serves gpt4 → gpt-4o (the map): team-gpt, the team alias of gpt4, is served by no one.
    expect(limiterModelOf(snapshot, facts.model, policy, facts)).to.deep.equal(['o3', 'gpt-4o']);
    const list = parseCheckRequest(
      aCheckRequest({ method: 'POST', path: '/v1/chat/completions?model=gpt4,%20o1', body: JSON.stringify({ model: 'o3', messages: [] }) }),
      edgeSettings(),
    );
    expect(list.model).to.deep.equal(['o3', 'gpt4', 'o1']);
    expect(limiterModelOf(snapshot, list.model, policy, list), "a served list: each name's limits, as a body's list").to.deep.equal(['o3', 'gpt-4o', 'o1']);
    expect(limiterModelOf(snapshot, 'o3', policy, { route: '/engines/gpt4, o1/chat/completions' }), "the path's list").to.deep.equal(['gpt-4o', 'o1']);
  });
});

describe('rate limits: general_settings.completion_model, which replaces the model before the limiter\'s pre-call hook', () => {
  const policy = buildPolicy(parseLiteLlmConfig(['general_settings:', '  completion_model: gpt4', 'litellm_settings:', '  model_alias_map: { gpt4: gpt-4o }'].join('\n'), {}));
  const parsed = (path: string, body: Record<string, unknown>): ReturnType<typeof parseCheckRequest> =>
    parseCheckRequest(aCheckRequest({ method: 'POST', path, body: JSON.stringify(body) }), edgeSettings(), null, policy.completionModel);

  it("limits the model it names alone, through the map and the key's aliases, in place of the body's, the path's and the query's", () => {
    const key = aVirtualKey({ fast: 'o3', 'gpt-4o': 'gpt-4o-2024' }, { team_id: 'team-1' });
    const team = aTeam({ team_id: 'team-1', model_aliases: { fast: 'o1' } });
    const snapshot = aSnapshot({ key, team });
    for (const path of ['/v1/chat/completions', '/v1/chat/completions?model=o1', '/openai/deployments/o1/chat/completions', '/v1/embeddings']) {
      const facts = parsed(path, { model: 'fast', messages: [] });
      // gpt4 → gpt-4o (map) → gpt-4o-2024 (key); the body's fast and the path's or query's o1 are not served.
      expect(limiterModelOf(snapshot, facts.model, policy, facts), path).to.equal('gpt-4o-2024');
      expect(v3ModelOf(snapshot, facts.model, policy, facts), path).to.equal('gpt-4o-2024');
    }
    const moderations = parsed('/v1/moderations', { model: 'fast', input: 'x' });
    expect(limiterModelOf(snapshot, moderations.model, policy, moderations), 'a route it does not apply to').to.equal('o1');
  });

  it("counts the request in the per-model window of the model served, not the body's", () => {
    const key = aKey({ metadata: { model_rpm_limit: { 'gpt-4o': 2, 'gpt-4o-mini': 9 } } });
    const facts = parsed('/v1/chat/completions', { model: 'gpt-4o-mini', messages: [] });
    const windows = rateLimitsOf(aSnapshot({ key }), facts.model, facts, null, policy).map((l) => `${l.type}:${l.limit}@${l.model ?? ''}`);
    expect(windows).to.deep.equal(['model_per_key:2@gpt-4o']);
  });
});
