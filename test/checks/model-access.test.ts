import { expect } from 'chai';
import { canObjectCallModel, type ModelAccessObject } from '../../src/checks/model-access';
import type { Policy } from '../../src/config/policy';
import { aDeployment, aPolicy } from './fixtures';

interface Row {
  readonly behaviour: string;
  readonly model: string | readonly string[];
  readonly allowlist: readonly string[];
  readonly policy?: Policy;
  readonly teamModelAliases?: Readonly<Record<string, string>>;
  readonly dbAccessGroupModels?: readonly string[];
  readonly allowed: boolean;
}

const accessGroupPolicy = aPolicy({
  modelList: [
    aDeployment({ modelName: 'gpt-4o', underlyingModel: 'openai/gpt-4o', accessGroups: ['beta-models'] }),
    aDeployment({ modelName: 'claude-3', underlyingModel: 'anthropic/claude-3', accessGroups: ['beta-models', 'anthropic-group'] }),
    aDeployment({ modelName: 'openai/*', underlyingModel: 'openai/*', accessGroups: ['wildcard-group'] }),
    aDeployment({ modelName: 'openai/gpt-4o', underlyingModel: 'openai/gpt-4o', accessGroups: ['exact-group'] }),
  ],
});

const aliasPolicy = aPolicy({
  modelAliasMap: { 'my-alias': 'gpt-4o' },
  modelGroupAlias: { 'group-alias': 'claude-3' },
  modelList: [aDeployment({ modelName: 'claude-3', underlyingModel: 'anthropic/claude-3' })],
});

const rows: readonly Row[] = [
  { behaviour: 'an empty allowlist allows every model', model: 'anything', allowlist: [], allowed: true },
  { behaviour: '"*" allows every model', model: 'anything', allowlist: ['*'], allowed: true },
  { behaviour: '"all-proxy-models" allows every model', model: 'anything', allowlist: ['all-proxy-models'], allowed: true },
  { behaviour: 'an exact entry allows that model', model: 'gpt-4o', allowlist: ['gpt-4o'], allowed: true },
  { behaviour: 'a model outside the allowlist is refused', model: 'gpt-4o', allowlist: ['o1'], allowed: false },
  {
    behaviour: '"all-team-models" is not all-access by itself (the key check is skipped instead)',
    model: 'gpt-4o',
    allowlist: ['all-team-models'],
    allowed: false,
  },
  { behaviour: 'a list of models needs every entry allowed', model: ['gpt-4o', 'o1'], allowlist: ['gpt-4o'], allowed: false },
  { behaviour: 'a list of allowed models passes', model: ['gpt-4o', 'o1'], allowlist: ['gpt-4o', 'o1'], allowed: true },
  {
    behaviour: 'a router access group containing the model grants it',
    model: 'claude-3',
    allowlist: ['beta-models'],
    policy: accessGroupPolicy,
    allowed: true,
  },
  {
    behaviour: 'an access group not containing the model stays an ordinary string',
    model: 'gpt-4o',
    allowlist: ['anthropic-group'],
    policy: accessGroupPolicy,
    allowed: false,
  },
  {
    behaviour: 'exact model_name deployments take precedence over wildcard deployments (exact group grants)',
    model: 'openai/gpt-4o',
    allowlist: ['exact-group'],
    policy: accessGroupPolicy,
    allowed: true,
  },
  {
    behaviour: 'exact model_name deployments take precedence over wildcard deployments (wildcard group does not)',
    model: 'openai/gpt-4o',
    allowlist: ['wildcard-group'],
    policy: accessGroupPolicy,
    allowed: false,
  },
  {
    behaviour: 'a wildcard deployment\'s access group covers models it serves',
    model: 'openai/o1',
    allowlist: ['wildcard-group'],
    policy: accessGroupPolicy,
    allowed: true,
  },
  { behaviour: 'a wildcard entry matches the model name', model: 'bedrock/us.amazon.nova-micro-v1:0', allowlist: ['bedrock/*'], allowed: true },
  { behaviour: 'a wildcard entry with a dotted prefix matches', model: 'bedrock/us.amazon.nova-micro-v1:0', allowlist: ['bedrock/us.*'], allowed: true },
  { behaviour: 'a wildcard does not match another provider prefix', model: 'bedrockzzzz/us.amazon.nova', allowlist: ['bedrock/*'], allowed: false },
  {
    behaviour: 'README §4.3: only "*" is special ("claude-3.5*" does not match "claude-345")',
    model: 'claude-345',
    allowlist: ['claude-3.5*'],
    allowed: false,
  },
  { behaviour: 'README §4.3: "claude-3.5*" matches "claude-3.5-sonnet"', model: 'claude-3.5-sonnet', allowlist: ['claude-3.5*'], allowed: true },
  { behaviour: 'a bare OpenAI model matches "openai/*" through provider inference', model: 'gpt-4o', allowlist: ['openai/*'], allowed: true },
  {
    behaviour: 'a bare Anthropic model matches "anthropic/*"',
    model: 'claude-3-5-sonnet-20240620',
    allowlist: ['anthropic/*'],
    allowed: true,
  },
  { behaviour: 'a model of unknown provider does not match provider wildcards', model: 'my-model', allowlist: ['openai/*'], allowed: false },
  { behaviour: 'a bare Bedrock model id matches "bedrock/*" (litellm.bedrock_models)', model: 'anthropic.claude-3-5-sonnet-20240620-v1:0', allowlist: ['bedrock/*'], allowed: true },
  { behaviour: 'a bare Bedrock model id is not matched by "anthropic/*"', model: 'anthropic.claude-3-5-sonnet-20240620-v1:0', allowlist: ['anthropic/*'], allowed: false },
  {
    behaviour: 'a model_alias_map alias is allowed when only the alias is listed',
    model: 'my-alias',
    allowlist: ['my-alias'],
    policy: aliasPolicy,
    allowed: true,
  },
  {
    behaviour: 'a model_alias_map alias is allowed when only the underlying model is listed',
    model: 'my-alias',
    allowlist: ['gpt-4o'],
    policy: aliasPolicy,
    allowed: true,
  },
  {
    behaviour: 'a router model_group_alias is allowed through its target',
    model: 'group-alias',
    allowlist: ['claude-3'],
    policy: aliasPolicy,
    allowed: true,
  },
  {
    behaviour: 'a team model alias (team_model_aliases key) is allowed',
    model: 'team-gpt',
    allowlist: ['o1'],
    teamModelAliases: { 'team-gpt': 'gpt-4o-team-1' },
    allowed: true,
  },
  {
    behaviour: 'DB access-group models are a second allowlist',
    model: 'gpt-4o',
    allowlist: ['o1'],
    dbAccessGroupModels: ['gpt-4o'],
    allowed: true,
  },
  {
    behaviour: 'DB access-group models do not help a model they do not list',
    model: 'gpt-4o',
    allowlist: ['o1'],
    dbAccessGroupModels: ['claude-3'],
    allowed: false,
  },
];

describe('canObjectCallModel — §5', () => {
  for (const row of rows) {
    it(`${row.allowed ? 'allows' : 'refuses'}: ${row.behaviour}`, () => {
      const denial = canObjectCallModel(row.model, row.allowlist, {
        objectType: 'key',
        policy: row.policy ?? aPolicy(),
        teamModelAliases: row.teamModelAliases,
        dbAccessGroupModels: row.dbAccessGroupModels,
      });
      expect(denial === null).to.equal(row.allowed);
    });
  }

  const objectTypes: readonly ModelAccessObject[] = ['key', 'team', 'user', 'org', 'project'];
  for (const objectType of objectTypes) {
    it(`refuses a ${objectType} with 401 ${objectType}_model_access_denied, param "model" and LiteLLM's message — §5 step 4`, () => {
      expect(canObjectCallModel('gpt-4o', ['o1', 'o3'], { objectType, policy: aPolicy() })).to.deep.equal({
        status: 401,
        type: `${objectType}_model_access_denied`,
        message: `${objectType} not allowed to access model. This ${objectType} can only access models=['o1', 'o3']. Tried to access gpt-4o`,
        param: 'model',
      });
    });
  }

  it('names the first refused entry of a model list', () => {
    const denial = canObjectCallModel(['o1', 'gpt-4o', 'claude'], ['o1'], { objectType: 'team', policy: aPolicy() });
    expect(denial?.message).to.match(/Tried to access gpt-4o$/);
  });

  it('reports the DB access-group allowlist when that second try also refuses (seed behaviour)', () => {
    const denial = canObjectCallModel('gpt-4o', ['o1'], {
      objectType: 'key',
      policy: aPolicy(),
      dbAccessGroupModels: ['claude-3'],
    });
    expect(denial?.message).to.equal(
      "key not allowed to access model. This key can only access models=['claude-3']. Tried to access gpt-4o",
    );
  });

  describe('answers for cached (frozen) allowlists are remembered, and are the same answers', () => {
    const decide = (row: Row, allowlist: readonly string[], aliases: Readonly<Record<string, string>> | undefined): boolean =>
      canObjectCallModel(row.model, allowlist, {
        objectType: 'key',
        policy: row.policy ?? aPolicy(),
        teamModelAliases: aliases,
        dbAccessGroupModels: row.dbAccessGroupModels,
      }) === null;

    it('gives every row its answer from a frozen allowlist, first computed and then remembered', () => {
      for (const row of rows) {
        const allowlist = Object.freeze([...row.allowlist]);
        const aliases = row.teamModelAliases === undefined ? undefined : Object.freeze({ ...row.teamModelAliases });
        expect(decide(row, allowlist, aliases), row.behaviour).to.equal(row.allowed);
        expect(decide(row, allowlist, aliases), `${row.behaviour} (again)`).to.equal(row.allowed);
      }
    });

    it('does not carry an answer over to another policy or other aliases for the same allowlist', () => {
      const allowlist = Object.freeze(['beta-models']);
      const grants = (policy: Policy): boolean => canObjectCallModel('claude-3', allowlist, { objectType: 'team', policy }) === null;
      expect(grants(accessGroupPolicy)).to.equal(true);
      expect(grants(aPolicy())).to.equal(false);
      expect(grants(accessGroupPolicy)).to.equal(true);

      const named = Object.freeze(['o1']);
      const viaAlias = (aliases: Readonly<Record<string, string>>): boolean =>
        canObjectCallModel('team-alias', named, { objectType: 'key', policy: aPolicy(), teamModelAliases: aliases }) === null;
      expect(viaAlias(Object.freeze({ 'team-alias': 'o1' }))).to.equal(true);
      expect(viaAlias(Object.freeze({}))).to.equal(false);
    });

    it('keeps answering right past the bound on remembered models (client-chosen names)', () => {
      const allowlist = Object.freeze(['gpt-4o', 'openai/*']);
      for (let i = 0; i < 500; i += 1) {
        const model = i % 3 === 0 ? 'gpt-4o' : i % 3 === 1 ? `openai/m-${i}` : `other-${i}`;
        const allowed = canObjectCallModel(model, allowlist, { objectType: 'key', policy: aPolicy() }) === null;
        expect(allowed, model).to.equal(i % 3 !== 2);
      }
    });
  });
});
