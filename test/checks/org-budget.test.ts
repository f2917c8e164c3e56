import { expect } from 'chai';
import { organizationBudget } from '../../src/checks/org-budget';
import type { Organization, Team, VirtualKey } from '../../src/domain/entities';
import { aBudget, aKey, aTeam, anOrg, decide } from './fixtures';

describe('organization budget — §4 step 3.1', () => {
  const orgKey = aKey({ organization_id: 'org-1' });
  const org = (spend: number, max: number | null) => anOrg({ spend, budget: aBudget({ max_budget: max }) });

  it('denies at org spend == max_budget (400, LiteLLM: >= for orgs)', () => {
    expect(decide(organizationBudget, { snapshot: { key: orgKey, organization: org(50, 50) } })).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: 'Budget has been exceeded! Organization=org-1 Current cost: 50.0, Max budget: 50.0',
      param: null,
    });
  });

  it('allows below max_budget', () => {
    expect(decide(organizationBudget, { snapshot: { key: orgKey, organization: org(49.9, 50) } })).to.equal(null);
  });

  it('skips a max_budget of 0 or none', () => {
    expect(decide(organizationBudget, { snapshot: { key: orgKey, organization: org(5, 0) } })).to.equal(null);
    expect(decide(organizationBudget, { snapshot: { key: orgKey, organization: org(5, null) } })).to.equal(null);
  });

  it("uses the team's organization when the key has none", () => {
    expect(
      decide(organizationBudget, {
        snapshot: { key: aKey({ team_id: 'team-1' }), team: aTeam({ organization_id: 'org-1' }), organization: org(60, 50) },
      })?.type,
    ).to.equal('budget_exceeded');
  });

  it("a JWT (no key): the token's organization wins over the team's (valid_token.org_id first)", () => {
    const jwtOrg = anOrg({ organization_id: 'org-jwt', spend: 60, budget: aBudget({ max_budget: 50 }) });
    const denial = decide(organizationBudget, {
      snapshot: { key: null, team: aTeam({ organization_id: 'org-team' }), organization: jwtOrg },
    });
    expect(denial?.message).to.equal('Budget has been exceeded! Organization=org-jwt Current cost: 60.0, Max budget: 50.0');
  });

  it("a JWT (no key) without an org claim uses the team's organization", () => {
    const teamOrg = anOrg({ organization_id: 'org-team', spend: 60, budget: aBudget({ max_budget: 50 }) });
    expect(
      decide(organizationBudget, { snapshot: { key: null, team: aTeam({ organization_id: 'org-team' }), organization: teamOrg } })?.type,
    ).to.equal('budget_exceeded');
  });

  it('skips when the organization row is missing', () => {
    expect(decide(organizationBudget, { snapshot: { key: orgKey, organization: null } })).to.equal(null);
  });

  it('README §4.1: exempts info routes', () => {
    expect(
      decide(organizationBudget, { request: { route: '/v1/models', model: null }, snapshot: { key: orgKey, organization: org(60, 50) } }),
    ).to.equal(null);
  });

  /**
   * `_organization_max_budget_check` (newest auth_checks.py) with the newest
   * `LiteLLM_VerificationTokenView.__init__`, which moves the key's own `organization_id` onto
   * `org_id` over the team's org the combined view selects: the key's org, else the team's.
   */
  const rows: ReadonlyArray<{ why: string; key: VirtualKey; team?: Team; organization: Organization | null; refused: boolean }> = [
    {
      why: "the key's organization wins over a different team organization",
      key: aKey({ team_id: 'team-1', organization_id: 'org-1' }),
      team: aTeam({ organization_id: 'org-2' }),
      organization: anOrg({ organization_id: 'org-1', spend: 60, budget: aBudget({ max_budget: 50 }) }),
      refused: true,
    },
    {
      why: "a loaded row of another organization than the key's is not checked",
      key: aKey({ team_id: 'team-1', organization_id: 'org-1' }),
      team: aTeam({ organization_id: 'org-2' }),
      organization: anOrg({ organization_id: 'org-2', spend: 60, budget: aBudget({ max_budget: 50 }) }),
      refused: false,
    },
    {
      why: 'a negative max_budget is no cap (max_budget <= 0 skips)',
      key: orgKey,
      organization: org(5, -1),
      refused: false,
    },
    {
      why: 'a key with neither its own nor a team organization is not checked',
      key: aKey(),
      organization: org(60, 50),
      refused: false,
    },
  ];
  for (const row of rows) {
    it(`${row.refused ? 'denies (400 budget_exceeded)' : 'allows'}: ${row.why}`, () => {
      const denial = decide(organizationBudget, { snapshot: { key: row.key, team: row.team ?? null, organization: row.organization } });
      expect(denial?.type ?? null).to.equal(row.refused ? 'budget_exceeded' : null);
    });
  }
});
