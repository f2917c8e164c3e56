import { expect } from 'chai';
import {
  budgetAlerts,
  keyMaxBudgetAlert,
  keySoftBudgetAlert,
  projectSoftBudgetAlert,
  teamAlertEmails,
  teamSoftBudgetAlert,
} from '../../src/alerts/budget-alerts';
import type { Json } from '../../src/domain/entities';
import { NOW, aBudget, aContext, aDeployment, aKey, aProject, aTeam, aUser } from '../checks/fixtures';

const base = {
  token: 'a'.repeat(64),
  key_alias: null,
  user_id: null,
  user_email: null,
  team_id: null,
  team_alias: null,
  organization_id: null,
  project_id: null,
};

describe('key 80 % max-budget alert — §2.7 step 8 (_virtual_key_max_budget_alert_check)', () => {
  const rows: ReadonlyArray<[string, number, number | null, boolean]> = [
    ['spend at exactly 80 % alerts', 8, 10, true],
    ['spend between 80 % and the max alerts', 9.99, 10, true],
    ['spend just under 80 % does not', 7.99, 10, false],
    ['spend == max does not (the budget check denies instead)', 10, 10, false],
    ['spend above max does not', 11, 10, false],
    ['no max_budget, no alert', 9, null, false],
    ['spend 0 never alerts, even with a 0 max budget', 0, 0, false],
  ];
  for (const [why, spend, maxBudget, alerts] of rows) {
    it(`${why} — §2.7 step 8`, () => {
      const alert = keyMaxBudgetAlert(aKey({ spend, max_budget: maxBudget }), null, NOW, base);
      expect(alert === null ? null : [alert.type, alert.event_group, alert.spend, alert.max_budget]).to.deep.equal(
        alerts ? ['max_budget_alert', 'key', spend, maxBudget] : null,
      );
    });
  }

  it('uses the max budget widened by an unexpired temporary increase (§2.7 step 1)', () => {
    const key = aKey({ spend: 9, max_budget: 10, metadata: { temp_budget_increase: 5, temp_budget_expiry: '2030-01-01T00:00:00Z' } });
    expect(keyMaxBudgetAlert(key, null, NOW, base)).to.equal(null); // 9 < 12 (80 % of 15)
    expect(keyMaxBudgetAlert(aKey({ ...key, spend: 12 }), null, NOW, base)?.max_budget).to.equal(15);
  });
});

describe('key soft budget alert — §2.7 step 8 (_virtual_key_soft_budget_check)', () => {
  const rows: ReadonlyArray<[string, number, number | null, boolean]> = [
    ['spend == soft budget alerts', 5, 5, true],
    ['spend above soft budget alerts', 6, 5, true],
    ['spend under soft budget does not', 4.99, 5, false],
    ['a soft budget of 0 is no soft budget (Python truthiness)', 3, 0, false],
    ['no soft budget, no alert', 3, null, false],
  ];
  for (const [why, spend, softBudget, alerts] of rows) {
    it(`${why} — §2.7 step 8`, () => {
      const alert = keySoftBudgetAlert(aKey({ spend }), aBudget({ soft_budget: softBudget }), NOW, base);
      expect(alert === null ? null : [alert.type, alert.event_group, alert.soft_budget]).to.deep.equal(
        alerts ? ['soft_budget', 'key', softBudget] : null,
      );
    });
  }

  it('needs the key’s own budget row (the soft budget lives there)', () => {
    expect(keySoftBudgetAlert(aKey({ spend: 100 }), null, NOW, base)).to.equal(null);
  });
});

describe('team soft budget alert — §4 step 3.0.5 (_team_soft_budget_check)', () => {
  const emails = { soft_budget_alerting_emails: ['ops@example.com'] };
  const rows: ReadonlyArray<[string, number, number | null, Record<string, Json>, boolean]> = [
    ['spend == soft budget with alert emails alerts', 5, 5, emails, true],
    ['spend under the soft budget does not', 4, 5, emails, false],
    ['no alert emails configured: no alert, as LiteLLM', 9, 5, {}, false],
    ['blank emails only: no alert', 9, 5, { soft_budget_alerting_emails: ['  ', ''] }, false],
    ['a soft budget of 0 counts (`is not None`)', 0, 0, emails, true],
    ['no soft budget, no alert', 9, null, emails, false],
  ];
  for (const [why, spend, softBudget, metadata, alerts] of rows) {
    it(`${why} — §4 step 3.0.5`, () => {
      const alert = teamSoftBudgetAlert(aTeam({ spend, soft_budget: softBudget, metadata }), base);
      expect(alert === null ? null : [alert.type, alert.event_group, alert.entity_id]).to.deep.equal(alerts ? ['soft_budget', 'team', 'team-1'] : null);
    });
  }

  it('reads the recipients from a list (non-blank strings) or a comma-separated string', () => {
    expect(teamAlertEmails(aTeam({ metadata: { soft_budget_alerting_emails: ['a@x', 3, ' ', 'b@x'] } }))).to.deep.equal(['a@x', 'b@x']);
    expect(teamAlertEmails(aTeam({ metadata: { soft_budget_alerting_emails: 'a@x, b@x ,,' } }))).to.deep.equal(['a@x', 'b@x']);
    expect(teamSoftBudgetAlert(aTeam({ spend: 9, soft_budget: 5, metadata: { soft_budget_alerting_emails: 'a@x' } }), base)?.alert_emails).to.deep.equal(['a@x']);
  });
});

describe('project soft budget alert — §4 step P (_project_soft_budget_check)', () => {
  const rows: ReadonlyArray<[string, number, number | null, boolean]> = [
    ['spend == soft budget alerts', 5, 5, true],
    ['spend under the soft budget does not', 4, 5, false],
    ['no soft budget does not', 9, null, false],
  ];
  for (const [why, spend, softBudget, alerts] of rows) {
    it(`${why} — §4 step P`, () => {
      const alert = projectSoftBudgetAlert(aProject({ spend, budget: aBudget({ soft_budget: softBudget }) }), base);
      expect(alert === null ? null : [alert.event_group, alert.entity_id]).to.deep.equal(alerts ? ['project', 'project-1'] : null);
    });
  }
});

describe('budgetAlerts: which alerts a request raises, and never a denial', () => {
  const snapshot = {
    key: aKey({ spend: 9, max_budget: 10, budget_id: 'kb', team_id: 'team-1', project_id: 'project-1', user_id: 'user-1', key_alias: 'ci' }),
    keyBudget: aBudget({ budget_id: 'kb', soft_budget: 5 }),
    team: aTeam({ spend: 7, soft_budget: 6, team_alias: 'core', metadata: { soft_budget_alerting_emails: ['ops@x'] } }),
    project: aProject({ spend: 3, budget: aBudget({ soft_budget: 2 }) }),
    user: aUser({ user_email: 'dev@x' }),
  };
  const kinds = (refusedBy: string | null, parts: Parameters<typeof aContext>[0] = {}) =>
    budgetAlerts(aContext({ snapshot, ...parts }), refusedBy).map((a) => `${a.event_group}:${a.type}`);

  it('an allowed request raises every alert that applies, in LiteLLM’s order', () => {
    expect(kinds(null)).to.deep.equal(['key:max_budget_alert', 'key:soft_budget', 'project:soft_budget', 'team:soft_budget']);
  });

  it('fills the alert with who was calling (CallInfo fields), never the raw key', () => {
    const [alert] = budgetAlerts(aContext({ snapshot }), null);
    expect(alert).to.deep.include({ token: 'a'.repeat(64), key_alias: 'ci', user_id: 'user-1', user_email: 'dev@x', team_id: 'team-1', team_alias: 'core', project_id: 'project-1' });
  });

  const reach: ReadonlyArray<[string, string[]]> = [
    ['key_blocked', []],
    ['key_budget', ['key:max_budget_alert']],
    ['key_model_budget', ['key:max_budget_alert', 'key:soft_budget']],
    ['team_blocked', ['key:max_budget_alert', 'key:soft_budget']],
    ['project_budget', ['key:max_budget_alert', 'key:soft_budget']],
    ['team_budget', ['key:max_budget_alert', 'key:soft_budget', 'project:soft_budget']],
    // LiteLLM's team soft budget alert (3.0.5) comes after both multi-window checks (3.1, 3.2).
    ['team_window_budgets', ['key:max_budget_alert', 'key:soft_budget', 'project:soft_budget']],
    ['key_window_budgets', ['key:max_budget_alert', 'key:soft_budget', 'project:soft_budget']],
    ['organization_budget', ['key:max_budget_alert', 'key:soft_budget', 'project:soft_budget', 'team:soft_budget']],
    ['tool_allowlist', ['key:max_budget_alert', 'key:soft_budget', 'project:soft_budget', 'team:soft_budget']],
    ['identify', []],
  ];
  for (const [refusedBy, expected] of reach) {
    it(`a request refused by ${refusedBy} raises only the alerts LiteLLM reaches before it`, () => {
      expect(kinds(refusedBy)).to.deep.equal(expected);
    });
  }

  it('raises nothing on info routes or for free models (budget scope, README §4.1, §2.7.5)', () => {
    expect(kinds(null, { request: { route: '/v1/models', method: 'GET', model: null, body: null } })).to.deep.equal([]);
    expect(kinds(null, { policy: { modelList: [aDeployment({ modelName: 'gpt-4o', inputCostPerToken: 0, outputCostPerToken: 0 })] } })).to.deep.equal([]);
  });

  it('raises nothing without a key', () => {
    expect(budgetAlerts(aContext({ snapshot: { ...snapshot, key: null } }), null)).to.deep.equal([]);
  });
});
