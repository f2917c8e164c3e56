import { expect } from 'chai';
import { buildPolicy } from '../../src/config/policy';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { accessGroupsFor, deploymentsFor, isRoutableModel, isZeroCostModel, modelNameForModelId } from '../../src/checks/model-router';
import { aDeployment, aPolicy } from './fixtures';

describe('router view of the model_list — §5 step 3a, §2.7.5, §4.14', () => {
  const policy = aPolicy({
    modelList: [
      aDeployment({ modelName: 'gpt-4o', underlyingModel: 'openai/gpt-4o', accessGroups: ['g1'] }),
      aDeployment({ modelName: 'gpt-4o', underlyingModel: 'azure/gpt-4o', accessGroups: ['g2'] }),
      aDeployment({ modelName: 'openai/*', underlyingModel: 'openai/*', accessGroups: ['wild'] }),
      aDeployment({ modelName: 'openai/gpt-4*', underlyingModel: 'openai/gpt-4*', accessGroups: ['wild-gpt4'] }),
      aDeployment({ modelName: 'free', underlyingModel: 'ollama/llama3', inputCostPerToken: 0, outputCostPerToken: 0 }),
      aDeployment({ modelName: 'half-free', underlyingModel: 'x/y', inputCostPerToken: 0, outputCostPerToken: null }),
    ],
    modelGroupAlias: { 'fast': 'gpt-4o', 'free': 'gpt-4o' },
  });

  it('collects access groups from every deployment of the model', () => {
    expect([...accessGroupsFor(policy, 'gpt-4o').keys()]).to.deep.equal(['g1', 'g2']);
  });

  it('reaches deployments through a model_group_alias, renamed to the alias', () => {
    expect(accessGroupsFor(policy, 'fast').get('g1')).to.deep.equal(['fast']);
  });

  it('adds an alias\'s deployments to those of a model_name of the same name', () => {
    expect(deploymentsFor(policy, 'free').map((d) => [d.modelName, d.deployment.underlyingModel])).to.deep.equal([
      ['free', 'ollama/llama3'],
      ['free', 'openai/gpt-4o'],
      ['free', 'azure/gpt-4o'],
    ]);
  });

  it('answers each name with one shared, frozen list (looked up, not rebuilt per request)', () => {
    const first = deploymentsFor(policy, 'gpt-4o');
    expect(deploymentsFor(policy, 'gpt-4o')).to.equal(first);
    expect(Object.isFrozen(first)).to.equal(true);
    expect(deploymentsFor(policy, 'openai/o1')).to.equal(deploymentsFor(policy, 'openai/o3'));
    expect(deploymentsFor(policy, 'nope')).to.deep.equal([]);
    expect(accessGroupsFor(policy, 'gpt-4o')).to.equal(accessGroupsFor(policy, 'gpt-4o'));
  });

  it('uses the most specific wildcard deployment when no exact deployment exists', () => {
    expect(deploymentsFor(policy, 'openai/gpt-4-turbo').map((d) => d.modelName)).to.deep.equal(['openai/gpt-4*']);
    expect(deploymentsFor(policy, 'openai/o1').map((d) => d.modelName)).to.deep.equal(['openai/*']);
  });

  it('treats a model as free only when every deployment states 0 input and 0 output', () => {
    expect(isZeroCostModel(aPolicy({ modelList: policy.modelList }), 'free')).to.equal(true);
    expect(isZeroCostModel(policy, 'free')).to.equal(false); // its alias adds priced deployments
    expect(isZeroCostModel(policy, 'half-free')).to.equal(false);
    expect(isZeroCostModel(policy, 'gpt-4o')).to.equal(false);
    expect(isZeroCostModel(policy, 'unknown')).to.equal(false);
  });

  it('routes model names, underlying models, aliases and, once any deployment is a wildcard, every name', () => {
    expect(isRoutableModel(policy, 'gpt-4o')).to.equal(true);
    expect(isRoutableModel(policy, 'ollama/llama3')).to.equal(true);
    expect(isRoutableModel(policy, 'fast')).to.equal(true);
    expect(isRoutableModel(policy, 'openai/o3')).to.equal(true);
    expect(isRoutableModel(policy, 'nope'), 'route_request hands it to a router that has a pattern').to.equal(true);
    const exact = aPolicy({ modelList: policy.modelList.filter((d) => !d.modelName.includes('*')), modelGroupAlias: policy.modelGroupAlias });
    expect(isRoutableModel(exact, 'openai/o3')).to.equal(false);
    expect(isRoutableModel(exact, 'nope')).to.equal(false);
    expect(isRoutableModel(aPolicy(), 'gpt-4o')).to.equal(false);
  });

  it("reads a deployment's model_info.id from the config (an int one as ModelInfo holds it, its str())", () => {
    const yaml = (id: string) => `model_list:\n  - model_name: gpt-4o\n    litellm_params: { model: openai/gpt-4o }\n    model_info: { id: ${id} }\n`;
    const named = buildPolicy(parseLiteLlmConfig(yaml('dep-1'), {}));
    expect(named.modelList[0].modelId).to.equal('dep-1');
    expect(isRoutableModel(named, 'dep-1')).to.equal(true);
    expect(buildPolicy(parseLiteLlmConfig(yaml('5'), {})).modelList[0].modelId).to.equal('5');
  });
});

describe('modelNameForModelId (Router resolve_model_name_from_model_id)', () => {
  const policy = aPolicy({
    modelList: [
      aDeployment({ modelName: 'gpt-5-mini', underlyingModel: 'gpt-5-mini' }),
      aDeployment({ modelName: 'vertex-ai-sora-2', underlyingModel: 'vertex_ai/veo-2.0-generate-001' }),
      aDeployment({ modelName: 'bedrock-batch-model', underlyingModel: 'bedrock/global.anthropic.claude-haiku-4-5-20251001-v1:0', modelId: '8d0eaa7e6c6f54a4' }),
    ],
  });
  const cases: ReadonlyArray<readonly [string, string, string | null]> = [
    ['a deployment id (model_info.id)', '8d0eaa7e6c6f54a4', 'bedrock-batch-model'],
    ['a model_name', 'gpt-5-mini', 'gpt-5-mini'],
    ["a deployment's litellm_params.model", 'vertex_ai/veo-2.0-generate-001', 'vertex-ai-sora-2'],
    ['that model without its provider', 'veo-2.0-generate-001', 'vertex-ai-sora-2'],
    ['an id nothing in the model list matches', 'non-existent-model', null],
    ['an empty id', '', null],
  ];
  for (const [what, id, group] of cases) {
    it(`resolves ${what} to ${group ?? 'nothing'}`, () => {
      expect(modelNameForModelId(policy, id)).to.equal(group);
    });
  }

  it('resolves nothing without a model list (LiteLLM has no router then)', () => {
    expect(modelNameForModelId(aPolicy(), 'gpt-5-mini')).to.equal(null);
  });
});
