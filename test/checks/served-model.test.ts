import { expect } from 'chai';
import { keyModelAccess } from '../../src/checks/key-model-access';
import { teamModelAccess } from '../../src/checks/team-model-access';
import { aKey, aSnapshot, aTeam, decide } from './fixtures';

describe("model access: the model LiteLLM's handler serves gets no team alias's pass", () => {
  // The team aliases gpt-4o to its mini: LiteLLM rewrites a body's gpt-4o so, never the handler's own model.
  const team = aTeam({ team_id: 'team-1', models: ['gpt-4o-mini'], model_aliases: { 'gpt-4o': 'gpt-4o-mini' } });
  const snapshot = { key: aKey({ team_id: 'team-1', models: ['gpt-4o-mini'] }), team };
  const request = (route: string, path: string, model: string | readonly string[]) => ({ route, path, model, body: { model: 'x' } });

  it("allows the alias's name in the body, which LiteLLM rewrites to the team's model", () => {
    const body = request('/v1/chat/completions', '/v1/chat/completions', 'gpt-4o');
    expect(decide(teamModelAccess, { snapshot, request: body })).to.equal(null);
    expect(decide(keyModelAccess, { snapshot, request: body })).to.equal(null);
  });

  for (const [name, route, path, model] of [
    ['?model= beside another body model', '/v1/chat/completions', '/v1/chat/completions?model=gpt-4o', ['gpt-4o-mini', 'gpt-4o']],
    ['?model= naming the body\'s model too', '/v1/chat/completions', '/v1/chat/completions?model=gpt-4o', 'gpt-4o'],
    ["the path's model", '/openai/deployments/gpt-4o/chat/completions', '/openai/deployments/gpt-4o/chat/completions', ['gpt-4o-mini', 'gpt-4o']],
    ['a served list', '/v1/chat/completions', '/v1/chat/completions?model=gpt-4o-mini,gpt-4o', ['gpt-4o-mini', 'gpt-4o']],
  ] as const) {
    it(`refuses the alias's name served by the handler (${name}): LiteLLM serves gpt-4o itself`, () => {
      const served = request(route, path, model);
      expect(decide(teamModelAccess, { snapshot: aSnapshot(snapshot), request: served })?.message).to.contain('gpt-4o');
      expect(decide(keyModelAccess, { snapshot: aSnapshot(snapshot), request: served })?.message).to.contain('gpt-4o');
    });
  }
});
