import { expect } from 'chai';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { buildPolicy, withDatabaseModels, type Policy } from '../../src/config/policy';
import type { Snapshot } from '../../src/checks/types';
import { UNREAD_MODEL, type RequestFacts } from '../../src/domain/request';
import { deploymentDefaultModelLimits, pythonIntOf } from '../../src/ratelimit/deployment-default-limits';
import { rateLimitsOf } from '../../src/ratelimit/rate-limits';
import { aKey, aSnapshot, aTeam, KEY_HASH } from '../checks/fixtures';

/** A policy from a config's model_list, as Tollgate builds it at startup. */
function policyOf(modelList: string): Policy {
  return buildPolicy(parseLiteLlmConfig(`model_list:\n${modelList}`, {}));
}

/** One deployment of `name`, with `params` added to its litellm_params. */
function deployment(name: string, params = ''): string {
  return `  - model_name: ${name}\n    litellm_params:\n      model: openai/${name}\n${params === '' ? '' : `      ${params.split('\n').join('\n      ')}\n`}`;
}

describe("rate limits: a deployment's default_api_key_rpm_limit / _tpm_limit (get_key_model_rpm_limit's fourth source)", () => {
  describe('reading the value as LiteLLM int() does', () => {
    const cases: Array<[unknown, number | null]> = [
      [200, 200],
      [2.9, 2],
      [true, 1],
      ['150', 150],
      [' \t1_000\n', 1000],
      ['+7', 7],
      ['-3', -3],
      ['not-a-number', null],
      ['3.0', null],
      ['1__0', null],
      ['', null],
      [Number.POSITIVE_INFINITY, null],
      [Number.NaN, null],
      [[5], null],
      [{ rpm: 5 }, null],
    ];
    for (const [raw, expected] of cases) {
      it(`reads ${typeof raw === 'number' ? String(raw) : JSON.stringify(raw)} as ${String(expected)}`, () => {
        expect(pythonIntOf(raw)).to.equal(expected);
      });
    }
  });

  describe('which deployments give the value', () => {
    it('takes the smallest value across the deployments of the model name (load-balanced: no deployment over-consumed)', () => {
      const policy = policyOf(
        deployment('model1', 'default_api_key_rpm_limit: 200') +
          deployment('model1', 'default_api_key_rpm_limit: 50\ndefault_api_key_tpm_limit: 700') +
          deployment('model1', 'default_api_key_rpm_limit: 150\ndefault_api_key_tpm_limit: 300'),
      );
      expect(deploymentDefaultModelLimits(policy, 'model1', 'rpm')).to.deep.equal({ model1: 50 });
      expect(deploymentDefaultModelLimits(policy, 'model1', 'tpm')).to.deep.equal({ model1: 300 });
    });

    it('ignores deployments without the field, and skips one int() cannot read instead of failing', () => {
      const policy = policyOf(
        deployment('model1') + deployment('model1', 'default_api_key_rpm_limit: not-a-number') + deployment('model1', 'default_api_key_rpm_limit: 75'),
      );
      expect(deploymentDefaultModelLimits(policy, 'model1', 'rpm')).to.deep.equal({ model1: 75 });
      expect(deploymentDefaultModelLimits(policy, 'model1', 'tpm')).to.equal(null);
    });

    it('reads a value given through os.environ/ as the text it resolves to', () => {
      const policy = buildPolicy(parseLiteLlmConfig(`model_list:\n${deployment('model1', 'default_api_key_rpm_limit: os.environ/MODEL1_RPM')}`, { MODEL1_RPM: '40' }));
      expect(deploymentDefaultModelLimits(policy, 'model1', 'rpm')).to.deep.equal({ model1: 40 });
    });

    it("gives another model nothing, and a policy where no deployment sets one carries no index (a Check reads one property)", () => {
      const policy = policyOf(deployment('model1', 'default_api_key_rpm_limit: 5') + deployment('model2'));
      expect(deploymentDefaultModelLimits(policy, 'model2', 'rpm')).to.equal(null);
      expect(deploymentDefaultModelLimits(policy, 'MODEL1', 'rpm')).to.equal(null);
      expect(policyOf(deployment('model1') + deployment('model2')).deploymentDefaultLimits).to.equal(null);
      expect(deploymentDefaultModelLimits(null, 'model1', 'rpm')).to.equal(null);
    });

    it("follows get_model_list(model_name=model): a model_group_alias gets its target's deployments, a wildcard only a model no deployment names exactly", () => {
      const policy = buildPolicy(
        parseLiteLlmConfig(
          `model_list:\n${deployment('gpt-4o', 'default_api_key_rpm_limit: 8')}${deployment('openai/gpt-4o-mini')}  - model_name: openai/*\n    litellm_params:\n      model: openai/*\n      default_api_key_rpm_limit: 3\n` +
            'router_settings:\n  model_group_alias:\n    fast: gpt-4o\n',
          {},
        ),
      );
      expect(deploymentDefaultModelLimits(policy, 'fast', 'rpm')).to.deep.equal({ fast: 8 });
      expect(deploymentDefaultModelLimits(policy, 'openai/o3', 'rpm')).to.deep.equal({ 'openai/o3': 3 });
      expect(deploymentDefaultModelLimits(policy, 'openai/gpt-4o-mini', 'rpm'), 'an exact deployment wins over the wildcard it also matches').to.equal(null);
    });

    it("skips a model_group_alias marked hidden, as get_model_list does: its name gets only its own or a wildcard's deployments", () => {
      const policy = buildPolicy(
        parseLiteLlmConfig(
          `model_list:\n${deployment('gpt-4o', 'default_api_key_rpm_limit: 8')}  - model_name: openai/*\n    litellm_params:\n      model: openai/*\n      default_api_key_rpm_limit: 3\n` +
            'router_settings:\n  model_group_alias:\n    secret: { model: gpt-4o, hidden: true }\n    openai/secret: { model: gpt-4o, hidden: true }\n    shown: { model: gpt-4o, hidden: false }\n',
          {},
        ),
      );
      expect(deploymentDefaultModelLimits(policy, 'secret', 'rpm'), 'a hidden alias no deployment matches').to.equal(null);
      expect(deploymentDefaultModelLimits(policy, 'openai/secret', 'rpm'), 'a hidden alias a wildcard matches').to.deep.equal({ 'openai/secret': 3 });
      expect(deploymentDefaultModelLimits(policy, 'shown', 'rpm')).to.deep.equal({ shown: 8 });
      expect(deploymentDefaultModelLimits(policy, UNREAD_MODEL, 'rpm'), 'an unread model').to.deep.equal({ 'gpt-4o': 8, 'openai/*': 3, shown: 8 });
    });

    it("hands every Check the index's own {model: limit} for a model it names, built once with the policy", () => {
      const policy = policyOf(deployment('model1', 'default_api_key_rpm_limit: 5\ndefault_api_key_tpm_limit: 50') + deployment('model2', 'default_api_key_tpm_limit: 9'));
      for (const metric of ['rpm', 'tpm'] as const) {
        const first = deploymentDefaultModelLimits(policy, 'model1', metric);
        expect(first).to.equal(deploymentDefaultModelLimits(policy, 'model1', metric));
        expect(Object.isFrozen(first)).to.equal(true);
        expect(deploymentDefaultModelLimits(policy, UNREAD_MODEL, metric)).to.equal(deploymentDefaultModelLimits(policy, UNREAD_MODEL, metric));
      }
      expect(deploymentDefaultModelLimits(policy, 'model2', 'rpm')).to.equal(null);
      expect(deploymentDefaultModelLimits(policy, UNREAD_MODEL, 'tpm')).to.deep.equal({ model1: 50, model2: 9 });
    });

    it('reads the models LiteLLM keeps in its database beside the YAML\'s', () => {
      const base = policyOf(deployment('model1', 'default_api_key_rpm_limit: 30'));
      const [stored] = parseLiteLlmConfig(`model_list:\n${deployment('model1', 'default_api_key_rpm_limit: 12')}`, {}).model_list ?? [];
      if (stored === undefined) throw new Error('unreachable');
      expect(deploymentDefaultModelLimits(withDatabaseModels(base, [stored]), 'model1', 'rpm')).to.deep.equal({ model1: 12 });
      expect(deploymentDefaultModelLimits(withDatabaseModels(policyOf(deployment('model1')), [stored]), 'model1', 'rpm')).to.deep.equal({ model1: 12 });
    });
  });

  describe("where it stands among the key's per-model limits", () => {
    const policy = policyOf(deployment('model1', 'default_api_key_rpm_limit: 200\ndefault_api_key_tpm_limit: 1000') + deployment('model2', 'default_api_key_rpm_limit: 20'));
    const show = (snapshot: Partial<Snapshot>, model: RequestFacts['model'] = 'model1', withPolicy: Policy | null = policy): string[] =>
      rateLimitsOf(aSnapshot(snapshot), model, null, null, withPolicy).map((l) => `${l.type}:${l.metric}:${l.limit}@${l.model ?? ''}`);
    const team = (metadata: Record<string, unknown>) => aTeam({ team_id: 'team-1', metadata: metadata as never });

    const cases: Array<{ name: string; snapshot: Partial<Snapshot>; model?: RequestFacts['model']; expected: string[] }> = [
      {
        name: 'limits a key that sets nothing per model, in its own model_per_key window for the requested model',
        snapshot: { key: aKey() },
        expected: ['model_per_key:rpm:200@model1', 'model_per_key:tpm:1000@model1'],
      },
      {
        name: "gives way to the key's metadata.model_rpm_limit (source 1) for that metric only",
        snapshot: { key: aKey({ metadata: { model_rpm_limit: { model1: 10 } } }) },
        expected: ['model_per_key:rpm:10@model1', 'model_per_key:tpm:1000@model1'],
      },
      {
        name: "is not merged in: a key whose own map names only another model has no rpm limit for this one (the first source found wins whole)",
        snapshot: { key: aKey({ metadata: { model_rpm_limit: { model2: 10 } } }) },
        expected: ['model_per_key:tpm:1000@model1'],
      },
      {
        name: "gives way to the rpm_limit / tpm_limit of the key's model_max_budget (source 2)",
        snapshot: { key: aKey({ model_max_budget: { model1: { max_budget: 1, rpm_limit: 3, tpm_limit: 30 } } }) },
        expected: ['model_per_key:rpm:3@model1', 'model_per_key:tpm:30@model1'],
      },
      {
        name: "gives way to the team's metadata.model_rpm_limit (source 3), even an empty one",
        snapshot: { key: aKey({ team_id: 'team-1' }), team: team({ model_rpm_limit: {}, model_tpm_limit: { model1: 50 } }) },
        expected: ['model_per_key:tpm:50@model1', 'model_per_team:tpm:50@model1'],
      },
      {
        name: "applies past an empty key map and a team model_rpm_limit of null (LiteLLM's `if result:` and `is not None`)",
        snapshot: { key: aKey({ team_id: 'team-1', metadata: { model_rpm_limit: {} } }), team: team({ model_rpm_limit: null }) },
        expected: ['model_per_key:rpm:200@model1', 'model_per_key:tpm:1000@model1'],
      },
      {
        name: "ends at a key map that is there but not a map (LiteLLM returns it; it limits nothing)",
        snapshot: { key: aKey({ metadata: { model_rpm_limit: 'model1' } }) },
        expected: ['model_per_key:tpm:1000@model1'],
      },
      {
        name: 'sets nothing for a request naming no model',
        snapshot: { key: aKey() },
        model: null,
        expected: [],
      },
      {
        name: 'sets nothing for a model no deployment gives a default',
        snapshot: { key: aKey() },
        model: 'other',
        expected: [],
      },
      {
        name: 'limits each model of a request naming several by its own default',
        snapshot: { key: aKey() },
        model: ['model2', 'other', 'model1'],
        expected: ['model_per_key:rpm:20@model2', 'model_per_key:rpm:200@model1', 'model_per_key:tpm:1000@model1'],
      },
      {
        name: 'limits a request whose model was not read by every default, as the other per-model limits',
        snapshot: { key: aKey() },
        model: UNREAD_MODEL,
        expected: ['model_per_key:rpm:200@model1', 'model_per_key:tpm:1000@model1', 'model_per_key:rpm:20@model2'],
      },
    ];
    for (const { name, snapshot, model, expected } of cases) {
      it(name, () => {
        expect(show(snapshot, model)).to.deep.equal(expected);
      });
    }

    it('counts against the key (target key, its hash): each key has its own allowance per model', () => {
      const [limit] = rateLimitsOf(aSnapshot({ key: aKey() }), 'model1', null, null, policy);
      expect(limit?.target).to.deep.equal({ kind: 'key', id: KEY_HASH });
    });

    it('applies none without a policy, nor to a caller without a key that is no JWT caller (keyless-deployment-default-limits.test.ts has those)', () => {
      expect(show({ key: aKey() }, 'model1', null)).to.deep.equal([]);
      expect(show({ key: null }, 'model1')).to.deep.equal([]);
    });
  });
});
