import { expect } from 'chai';
import {
  chargedModelBudgetsOf,
  gatedModelBudgetsOf,
  modelBudgetName,
  modelBudgetOwners,
  modelBudgetsOf,
  resolveModelBudget,
  teamModelBudgetApplies,
} from '../../src/checks/model-budget-scopes';
import { keyModelBudget } from '../../src/checks/key-model-budget';
import { userModelBudget } from '../../src/checks/user-model-budget';
import { endUserModelBudget } from '../../src/checks/end-user-model-budget';
import { teamModelBudget } from '../../src/checks/team-model-budget';
import type { Json, JsonObject } from '../../src/domain/entities';
import { UNREAD_MODEL } from '../../src/domain/request';
import { aBudget, aKey, anEndUser, aSnapshot, aTeam, aUser, decide } from './fixtures';

const daily = (limit: Json): JsonObject => ({ max_budget: limit, budget_duration: '1d' });

describe("per-model budget scopes: which windowed counter a request belongs to (LiteLLM's model_max_budget_limiter)", () => {
  it('builds nothing for a caller without per-model budgets: every Check gets the one shared empty list', () => {
    const first = modelBudgetOwners(aSnapshot({ team: aTeam(), user: aUser(), endUser: anEndUser() }));
    expect(first).to.have.length(0);
    expect(modelBudgetOwners(aSnapshot())).to.equal(first);
    expect(Object.isFrozen(first)).to.equal(true);
    expect(modelBudgetOwners(aSnapshot({ key: aKey({ model_max_budget: { 'gpt-4o': { max_budget: 1, budget_duration: '1d' } } }) }))).to.have.length(1);
  });

  describe('resolveModelBudget (resolve_model_budget)', () => {
    it('keys the counter on the entry as configured, with its duration as written', () => {
      expect(resolveModelBudget({ 'gpt-4o': { budget_limit: 2, time_period: '30days' } }, 'openai/gpt-4o')).to.deep.equal({
        budgetModel: 'gpt-4o',
        duration: '30days',
        maxBudget: 2,
      });
    });

    it('reads the model as sent before the bare model, and skips an entry it cannot key', () => {
      expect(resolveModelBudget({ 'openai/o1': daily(10), o1: daily(1) }, 'openai/o1')?.budgetModel).to.equal('openai/o1');
      expect(resolveModelBudget({ 'openai/o1': { max_budget: 10 }, o1: daily(1) }, 'openai/o1')?.budgetModel).to.equal('o1');
      expect(resolveModelBudget({ 'openai/o1': daily('ten') }, 'openai/o1')).to.equal(null);
    });

    it('keeps an entry without a limit (charged, never refusing)', () => {
      expect(resolveModelBudget({ 'gpt-4o': { budget_duration: '1h' } }, 'gpt-4o')).to.deep.equal({ budgetModel: 'gpt-4o', duration: '1h', maxBudget: null });
    });
  });

  describe('team_model_budget_applies: a key entry that spend-gates the model overrides the team', () => {
    const rows: ReadonlyArray<{ why: string; key: JsonObject | null; applies: boolean }> = [
      { why: 'no key budgets', key: null, applies: true },
      { why: 'empty key budgets', key: {}, applies: true },
      { why: "the key budgets another model only", key: { 'claude-3': daily(1) }, applies: true },
      { why: 'the key entry has no limit', key: { 'gpt-4o': { budget_duration: '1d' } }, applies: true },
      { why: 'the key entry has a negative limit (no limit)', key: { 'gpt-4o': daily(-1) }, applies: true },
      { why: 'the key entry limits the model', key: { 'gpt-4o': daily(5) }, applies: false },
      { why: 'a zero key limit gates too', key: { 'gpt-4o': daily(0) }, applies: false },
      { why: "the key's bare-model entry limits a provider-prefixed request", key: { 'gpt-4o': daily(5) }, applies: false },
    ];
    for (const row of rows) {
      it(`${row.why}: the team's ${row.applies ? 'applies' : 'does not apply'}`, () => {
        const model = row.why.includes('provider-prefixed') ? 'openai/gpt-4o' : 'gpt-4o';
        expect(teamModelBudgetApplies(model, row.key)).to.equal(row.applies);
      });
    }
  });

  describe('the counters a request reads and is charged to', () => {
    const snapshot = aSnapshot({
      key: aKey({ token: 'k'.repeat(64), user_id: 'u-1', team_id: 't-1', model_max_budget: { 'gpt-4o': daily(5), 'o1': { budget_duration: '7d' } } }),
      user: aUser({ user_id: 'u-1', model_max_budget: { 'gpt-4o': { max_budget: 3, budget_duration: '1mo' } } }),
      team: aTeam({ team_id: 't-1', model_max_budget: { 'gpt-4o': daily(10), o1: daily(2), 'claude-3': daily(1) } }),
      endUser: anEndUser({ user_id: 'customer-1', budget: aBudget({ model_max_budget: { 'gpt-4o': daily(1) } }) }),
    });

    it('names every scope that budgets the model, key override applied: key, user, end user (not the team)', () => {
      expect(modelBudgetsOf(snapshot, 'gpt-4o').map(({ scope, id, budgetModel, duration }) => [scope, id, budgetModel, duration])).to.deep.equal([
        ['key', 'k'.repeat(64), 'gpt-4o', '1d'],
        ['user', 'u-1', 'gpt-4o', '1mo'],
        ['end_user', 'customer-1', 'gpt-4o', '1d'],
      ]);
    });

    it("a key entry without a limit leaves the team's in force, and is charged but not read", () => {
      const o1 = { model: 'o1' };
      expect(chargedModelBudgetsOf(snapshot, o1).map((c) => [c.scope, c.budgetModel, c.duration])).to.deep.equal([
        ['key', 'o1', '7d'],
        ['team', 'o1', '1d'],
      ]);
      expect(gatedModelBudgetsOf(snapshot, o1).map((c) => c.scope)).to.deep.equal(['team']);
    });

    it("charges a response the model LiteLLM's handler serves (the path's or ?model=) in place of the body's, though both are checked", () => {
      const viaQuery = { model: ['o1', 'gpt-4o'], route: '/v1/chat/completions', path: '/v1/chat/completions?model=gpt-4o' };
      const charged = chargedModelBudgetsOf(snapshot, viaQuery).map((c) => `${c.scope}:${c.budgetModel}`);
      expect(charged).to.deep.equal(['key:gpt-4o', 'user:gpt-4o', 'end_user:gpt-4o']);
      expect(gatedModelBudgetsOf(snapshot, viaQuery).map((c) => `${c.scope}:${c.budgetModel}`).sort(), 'both checked').to.include.members(['team:o1', 'key:gpt-4o']);
      const viaPath = { model: ['o1', 'gpt-4o'], route: '/openai/deployments/gpt-4o/chat/completions', path: '/openai/deployments/gpt-4o/chat/completions' };
      expect(chargedModelBudgetsOf(snapshot, viaPath).map((c) => c.budgetModel)).to.not.include('o1');
      const bodyList = { model: ['o1', 'gpt-4o'], route: '/v1/chat/completions', path: '/v1/chat/completions' };
      expect(chargedModelBudgetsOf(snapshot, bodyList).map((c) => c.budgetModel), "a body's list: each of its models").to.include.members(['o1', 'gpt-4o']);
    });

    it('charges a body cut before its model to the windows of general_settings.completion_model, which LiteLLM serves whatever the body holds', () => {
      const cut = { model: UNREAD_MODEL, route: '/v1/chat/completions', path: '/v1/chat/completions', completionModel: 'gpt-4o' };
      expect(chargedModelBudgetsOf(snapshot, cut).map((c) => `${c.scope}:${c.budgetModel}`)).to.deep.equal(['key:gpt-4o', 'user:gpt-4o', 'end_user:gpt-4o']);
      const unset = { model: UNREAD_MODEL, route: '/v1/chat/completions', path: '/v1/chat/completions' };
      expect(chargedModelBudgetsOf(snapshot, unset), 'unset: no model to charge').to.deep.equal([]);
    });

    it('reads nothing for a request no per-model budget applies to', () => {
      expect(gatedModelBudgetsOf(snapshot, { model: 'gpt-4o-mini' })).to.deep.equal([]);
      expect(gatedModelBudgetsOf(snapshot, { model: null })).to.deep.equal([]);
      expect(gatedModelBudgetsOf(aSnapshot(), { model: 'gpt-4o' })).to.deep.equal([]);
    });

    it('reads, for a model it could not read (a body cut before its model), every gated budget of every scope, and charges none', () => {
      const gated = gatedModelBudgetsOf(snapshot, { model: UNREAD_MODEL }).map(({ scope, budgetModel }) => `${scope}:${budgetModel}`);
      // The team's gpt-4o cap gives way to the key's own entry; the key's o1 entry has no limit.
      expect(gated.sort()).to.deep.equal(['end_user:gpt-4o', 'key:gpt-4o', 'team:claude-3', 'team:o1', 'user:gpt-4o']);
      expect(gatedModelBudgetsOf(snapshot, { model: ['gpt-4o', UNREAD_MODEL] }).length).to.equal(gated.length);
      expect(chargedModelBudgetsOf(snapshot, { model: UNREAD_MODEL })).to.deep.equal([]);
      expect(gatedModelBudgetsOf(aSnapshot(), { model: UNREAD_MODEL })).to.deep.equal([]);
    });

    it("names a JWT caller's user by the token's user id and its team (no key to override it), and an end user without a row under the default budget", () => {
      const jwt = aSnapshot({
        key: null,
        jwtUserId: 'jwt-user',
        user: aUser({ user_id: 'jwt-user', model_max_budget: { 'gpt-4o': daily(1) } }),
        team: aTeam({ team_id: 't-9', model_max_budget: { 'gpt-4o': daily(2) } }),
        endUser: null,
        unknownEndUser: { user_id: 'new-customer', budget: aBudget({ model_max_budget: { 'gpt-4o': daily(3) } }) },
      });
      const named = [
        ['user', 'jwt-user'],
        ['team', 't-9'],
        ['end_user', 'new-customer'],
      ];
      expect(chargedModelBudgetsOf(jwt, { model: 'gpt-4o' }).map((c) => [c.scope, c.id])).to.deep.equal(named);
      expect(gatedModelBudgetsOf(jwt, { model: 'gpt-4o' }).map((c) => [c.scope, c.id]), 'the checks read what is charged').to.deep.equal(named);
    });

    it('charges each model of a multi-model request, each counter once', () => {
      const charged = chargedModelBudgetsOf(snapshot, { model: ['claude-3', 'anthropic/claude-3', 'gpt-4o'] });
      expect(charged.map((c) => `${c.scope}:${c.budgetModel}`)).to.deep.equal(['team:claude-3', 'key:gpt-4o', 'user:gpt-4o', 'end_user:gpt-4o']);
    });

    it('names counters so that no id, model or duration can spell another', () => {
      const a = modelBudgetName({ scope: 'key', id: 'a:b', budgetModel: 'c', duration: '1d' });
      const b = modelBudgetName({ scope: 'key', id: 'a', budgetModel: 'b:c', duration: '1d' });
      expect(a).to.not.equal(b);
    });
  });

  describe('the checks read the windowed counters when the snapshot carries them (metering)', () => {
    const key = aKey({ token: 'k'.repeat(64), key_alias: 'ci', user_id: 'u-1', team_id: 't-1', model_max_budget: { 'gpt-4o': daily(1) }, model_spend: { 'gpt-4o': 50 } });
    const counter = (scope: 'key' | 'user' | 'team' | 'end_user', id: string, budgetModel = 'gpt-4o', duration = '1d') => modelBudgetName({ scope, id, budgetModel, duration });

    it("judges the key on its window's counter, not model_spend: a key whose model_spend is far over passes with a counter below", () => {
      expect(decide(keyModelBudget, { snapshot: { key, modelBudgetSpend: new Map([[counter('key', key.token), 0.5]]) } })).to.equal(null);
      expect(decide(keyModelBudget, { snapshot: { key, modelBudgetSpend: new Map([[counter('key', key.token), 1]]) } })?.type).to.equal('budget_exceeded');
    });

    it('a counter never written (or whose window has passed: it reads as absent) is zero spend', () => {
      expect(decide(keyModelBudget, { snapshot: { key, modelBudgetSpend: new Map() } })).to.equal(null);
      const zero = aKey({ ...key, model_max_budget: { 'gpt-4o': daily(0) } });
      expect(decide(keyModelBudget, { snapshot: { key: zero, modelBudgetSpend: new Map() } })?.type).to.equal('budget_exceeded');
    });

    it("reads the counter of the entry's duration: a budget whose duration was edited starts a new window", () => {
      const edited = aKey({ ...key, model_max_budget: { 'gpt-4o': { max_budget: 1, budget_duration: '7d' } } });
      expect(decide(keyModelBudget, { snapshot: { key: edited, modelBudgetSpend: new Map([[counter('key', key.token), 5]]) } })).to.equal(null);
    });

    it('the user, team and end-user checks read their own scopes’ counters', () => {
      const plain = aKey({ token: key.token, user_id: 'u-1', team_id: 't-1' });
      const user = aUser({ user_id: 'u-1', model_max_budget: { 'gpt-4o': daily(1) }, model_spend: { 'gpt-4o': 50 } });
      const team = aTeam({ team_id: 't-1', model_max_budget: { 'gpt-4o': daily(1) } });
      const endUser = anEndUser({ user_id: 'c-1', budget: aBudget({ model_max_budget: { 'gpt-4o': daily(1) } }) });
      const spend = (scope: 'user' | 'team' | 'end_user', id: string) => new Map([[counter(scope, id), 1]]);
      expect(decide(userModelBudget, { snapshot: { key: plain, user, modelBudgetSpend: new Map() } })).to.equal(null);
      expect(decide(userModelBudget, { snapshot: { key: plain, user, modelBudgetSpend: spend('user', 'u-1') } })?.message).to.equal('LiteLLM User: u-1, exceeded budget for model=gpt-4o');
      expect(decide(teamModelBudget, { snapshot: { key: plain, team, modelBudgetSpend: spend('team', 't-1') } })?.message).to.equal('LiteLLM Team: t-1, exceeded budget for model=gpt-4o');
      expect(decide(endUserModelBudget, { snapshot: { key: plain, endUser, modelBudgetSpend: spend('end_user', 'c-1') } })?.message).to.equal('LiteLLM End User: c-1, exceeded budget for model=gpt-4o');
      expect(decide(endUserModelBudget, { snapshot: { key: plain, endUser, modelBudgetSpend: spend('user', 'c-1') } }), "another scope's counter").to.equal(null);
    });
  });
});
