import { expect } from 'chai';
import {
  chargedTeamMemberModelCounter,
  gatedTeamMemberModelCounters,
  teamMemberModelBudget,
} from '../../src/checks/team-member-model-budget';
import type { JsonObject } from '../../src/domain/entities';
import { UNREAD_MODEL } from '../../src/domain/request';
import { aDeployment, aKey, aSnapshot, aTeam, decide } from './fixtures';

const freeGpt4o = { modelList: [aDeployment({ modelName: 'gpt-4o', inputCostPerToken: 0, outputCostPerToken: 0 })] };

describe('team member per-model budget — §4 step 4.3 (_check_team_member_model_budget, newer LiteLLM)', () => {
  const key = aKey({ user_id: 'user-1', team_id: 'team-1' });
  const teamWith = (limits: JsonObject) => aTeam({ metadata: { team_member_model_max_budget: limits } });
  const spent = (entries: Record<string, number>) => new Map(Object.entries(entries));
  const snapshotOf = (limits: JsonObject, spend: Record<string, number> = {}) => ({
    key,
    team: teamWith(limits),
    teamMemberModelSpend: spent(spend),
  });

  it("refuses once the member's spend on the model reaches its max_budget (>=), with Python's :.6f in the message", () => {
    expect(decide(teamMemberModelBudget, { snapshot: snapshotOf({ 'gpt-4o': { max_budget: 2.5 } }, { 'gpt-4o': 2.5 }) })).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: 'ExceededBudget: Team member model budget exceeded. User=user-1, Team=team-1, Model=gpt-4o. Spend=$2.500000, Budget=$2.500000',
      param: null,
    });
    expect(decide(teamMemberModelBudget, { snapshot: snapshotOf({ 'gpt-4o': { max_budget: 2.5 } }, { 'gpt-4o': 2.4999 }) })).to.equal(null);
  });

  it("rounds the message's amounts as Python's :.6f does (the exact binary value, not JavaScript's toFixed)", () => {
    // 1/128 is a tie at six places: Python rounds it to even, toFixed up.
    const denial = decide(teamMemberModelBudget, { snapshot: snapshotOf({ 'gpt-4o': { max_budget: 0.0078125 } }, { 'gpt-4o': 1.0078125 }) });
    expect(denial?.message).to.match(/Spend=\$1\.007812, Budget=\$0\.007812$/);
    const tiny = decide(teamMemberModelBudget, { snapshot: snapshotOf({ 'gpt-4o': { max_budget: 1e-7 } }, { 'gpt-4o': 0.0000125 }) });
    expect(tiny?.message).to.match(/Spend=\$0\.000013, Budget=\$0\.000000$/);
  });

  it('refuses at a max_budget of 0 with nothing spent (no counter read: spend 0)', () => {
    expect(decide(teamMemberModelBudget, { snapshot: { key, team: teamWith({ 'gpt-4o': { max_budget: 0 } }) } })?.message).to.equal(
      'ExceededBudget: Team member model budget exceeded. User=user-1, Team=team-1, Model=gpt-4o. Spend=$0.000000, Budget=$0.000000',
    );
    expect(decide(teamMemberModelBudget, { snapshot: { key, team: teamWith({ 'gpt-4o': { max_budget: 0.01 } }) } })).to.equal(null);
  });

  it('looks the entry up under the exact model name: no provider/ fallback, no other spelling', () => {
    const limits = { 'openai/gpt-4o': { max_budget: 0 }, 'GPT-4O': { max_budget: 0 } };
    expect(decide(teamMemberModelBudget, { snapshot: snapshotOf(limits) })).to.equal(null);
    expect(decide(teamMemberModelBudget, { request: { model: 'openai/gpt-4o' }, snapshot: snapshotOf(limits) })?.message).to.contain('Model=openai/gpt-4o.');
  });

  it('reads the first model of a list only', () => {
    const limits = { 'o1': { max_budget: 0 } };
    expect(decide(teamMemberModelBudget, { request: { model: ['gpt-4o', 'o1'] }, snapshot: snapshotOf(limits) })).to.equal(null);
    expect(decide(teamMemberModelBudget, { request: { model: ['o1', 'gpt-4o'] }, snapshot: snapshotOf(limits) })?.type).to.equal('budget_exceeded');
    expect(decide(teamMemberModelBudget, { request: { model: [] }, snapshot: snapshotOf(limits) })).to.equal(null);
  });

  it('skips an entry without max_budget, one that is not an object, and a map that is not one', () => {
    for (const limits of [{ 'gpt-4o': {} }, { 'gpt-4o': { max_budget: null } }, { 'gpt-4o': 0 }, { 'gpt-4o': [0] }, { 'gpt-4o': { budget_limit: 0 } }]) {
      expect(decide(teamMemberModelBudget, { snapshot: snapshotOf(limits as JsonObject, { 'gpt-4o': 100 }) }), JSON.stringify(limits)).to.equal(null);
    }
    const listed = aTeam({ metadata: { team_member_model_max_budget: [{ 'gpt-4o': { max_budget: 0 } }] } });
    expect(decide(teamMemberModelBudget, { snapshot: { key, team: listed } })).to.equal(null);
  });

  it('compares a boolean max_budget as Python does (True is 1)', () => {
    expect(decide(teamMemberModelBudget, { snapshot: snapshotOf({ 'gpt-4o': { max_budget: true } }, { 'gpt-4o': 1 }) })?.message).to.match(/Budget=\$1\.000000$/);
  });

  it('needs a team and a caller user id (a key without user_id is not checked)', () => {
    const limits = { 'gpt-4o': { max_budget: 0 } };
    expect(decide(teamMemberModelBudget, { snapshot: { key: aKey({ user_id: null, team_id: 'team-1' }), team: teamWith(limits) } })).to.equal(null);
    expect(decide(teamMemberModelBudget, { snapshot: { key, team: null } })).to.equal(null);
    expect(decide(teamMemberModelBudget, { request: { model: null }, snapshot: snapshotOf(limits) })).to.equal(null);
  });

  it("holds a JWT caller (no key) by the token's user id", () => {
    const jwt = { key: null, jwtUserId: 'jwt-user', team: teamWith({ 'gpt-4o': { max_budget: 1 } }), teamMemberModelSpend: spent({ 'gpt-4o': 1 }) };
    expect(decide(teamMemberModelBudget, { keyHash: null, snapshot: jwt })?.message).to.contain('User=jwt-user, Team=team-1,');
  });

  it("applies to each member on their own: one member's spend does not refuse another", () => {
    const limits = { 'gpt-4o': { max_budget: 1 } };
    // The overlay reads the caller's counter only; another member's key sees its own (none here).
    const other = { key: aKey({ user_id: 'user-2', team_id: 'team-1' }), team: teamWith(limits), teamMemberModelSpend: spent({}) };
    expect(decide(teamMemberModelBudget, { snapshot: snapshotOf(limits, { 'gpt-4o': 1 }) })?.message).to.contain('User=user-1,');
    expect(decide(teamMemberModelBudget, { snapshot: other })).to.equal(null);
    expect(gatedTeamMemberModelCounters(aSnapshot(other), { model: 'gpt-4o' })).to.deep.equal([{ userId: 'user-2', teamId: 'team-1', model: 'gpt-4o' }]);
  });

  it('is skipped with the other budgets: info routes and zero-cost models (skip_budget_checks)', () => {
    const snapshot = snapshotOf({ 'gpt-4o': { max_budget: 0 } });
    expect(decide(teamMemberModelBudget, { snapshot, policy: freeGpt4o })).to.equal(null);
    expect(decide(teamMemberModelBudget, { snapshot, request: { route: '/model/info', model: 'gpt-4o' } })).to.equal(null);
  });

  describe('a body Envoy cut before its model (UNREAD_MODEL)', () => {
    const limits = { 'gpt-4o': { max_budget: 5 }, o1: { max_budget: 1 }, free: {} };

    it('is checked against every limited entry of the map, any spent one refusing', () => {
      const request = { model: UNREAD_MODEL };
      expect(decide(teamMemberModelBudget, { request, snapshot: snapshotOf(limits, { 'gpt-4o': 4, o1: 0.5 }) })).to.equal(null);
      expect(decide(teamMemberModelBudget, { request, snapshot: snapshotOf(limits, { 'gpt-4o': 4, o1: 1 }) })?.message).to.contain('Model=o1.');
      expect(gatedTeamMemberModelCounters(aSnapshot(snapshotOf(limits)), request).map((c) => c.model)).to.deep.equal(['gpt-4o', 'o1']);
    });

    it('is charged to none', () => {
      expect(chargedTeamMemberModelCounter(aSnapshot(snapshotOf(limits)), { model: UNREAD_MODEL })).to.equal(null);
    });

    it('is charged to the entry of general_settings.completion_model where it applies: LiteLLM serves it whatever the body holds', () => {
      const request = { model: UNREAD_MODEL, route: '/v1/chat/completions', path: '/v1/chat/completions', completionModel: 'gpt-4o' };
      expect(chargedTeamMemberModelCounter(aSnapshot(snapshotOf(limits)), request)?.model).to.equal('gpt-4o');
      expect(chargedTeamMemberModelCounter(aSnapshot(snapshotOf(limits)), { ...request, completionModel: 'claude-3' }), 'a model the map does not limit').to.equal(null);
    });
  });

  it('builds nothing for a caller whose team has no map, nor for a request without a model (the shared empty list)', () => {
    const plain = aSnapshot({ key, team: aTeam() });
    const none = gatedTeamMemberModelCounters(plain, { model: 'gpt-4o' });
    expect(none).to.have.length(0);
    expect(Object.isFrozen(none)).to.equal(true);
    expect(gatedTeamMemberModelCounters(plain, { model: 'o1' })).to.equal(none);
    expect(gatedTeamMemberModelCounters(aSnapshot(snapshotOf({ 'gpt-4o': { max_budget: 5 } })), { model: null })).to.equal(none);
  });

  it("checks the member's budget of the model LiteLLM's handler serves (the path's or ?model=) beside the body's, and charges that one", () => {
    const snapshot = snapshotOf({ 'gpt-4o': { max_budget: 5 }, mini: { max_budget: 5 } }, { 'gpt-4o': 5 });
    for (const [route, path] of [
      ['/v1/chat/completions', '/v1/chat/completions?model=gpt-4o'],
      ['/openai/deployments/gpt-4o/chat/completions', '/openai/deployments/gpt-4o/chat/completions'],
    ] as const) {
      const request = { model: ['mini', 'gpt-4o'], route, path };
      expect(decide(teamMemberModelBudget, { request, snapshot })?.message, path).to.contain('Model=gpt-4o.');
      expect(chargedTeamMemberModelCounter(aSnapshot(snapshot), request)?.model, path).to.equal('gpt-4o');
    }
    const bodyList = { model: ['mini', 'gpt-4o'], route: '/v1/chat/completions', path: '/v1/chat/completions' };
    expect(decide(teamMemberModelBudget, { request: bodyList, snapshot }), "a body's list: its first, as LiteLLM").to.equal(null);
    const unlimited = { model: ['mini', 'o1'], route: '/v1/chat/completions', path: '/v1/chat/completions?model=o1' };
    expect(chargedTeamMemberModelCounter(aSnapshot(snapshot), unlimited), 'the served model has no entry: the body\'s is not charged for it').to.equal(null);
  });

  describe('the counter a metered response is charged to', () => {
    it("is the member's counter of the request's model (the first of a list) when the team limits it; none otherwise", () => {
      const snapshot = aSnapshot(snapshotOf({ 'gpt-4o': { max_budget: 5 }, o1: {} }));
      expect(chargedTeamMemberModelCounter(snapshot, { model: ['gpt-4o', 'o1'] })).to.deep.equal({ userId: 'user-1', teamId: 'team-1', model: 'gpt-4o' });
      expect(chargedTeamMemberModelCounter(snapshot, { model: 'o1' }), 'an entry without max_budget').to.equal(null);
      expect(chargedTeamMemberModelCounter(snapshot, { model: 'claude-3' })).to.equal(null);
      expect(chargedTeamMemberModelCounter(aSnapshot({ key, team: aTeam() }), { model: 'gpt-4o' }), 'a team without a map').to.equal(null);
    });
  });
});
