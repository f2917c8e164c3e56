import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { buildPolicy } from '../../src/config/policy';
import { generatedDeploymentId } from '../../src/checks/deployment-id';
import { isRoutableModel, modelNameForModelId } from '../../src/checks/model-router';

/**
 * Expected ids come from LiteLLM's algorithm run by Python over the same YAML
 * (deployment-id-reference.py: PyYAML safe_load, then Router._generate_model_id); they are
 * pinned here, and checked again against that script wherever python3 has PyYAML.
 */
const CONFIG = `defaults: &defaults
  api_base: https://example.test/v1
  timeout: 30
extra: &extra
  timeout: 60.0
  stream_timeout: 5
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_base: https://api.openai.com/v1
  - model_name: numbers
    litellm_params:
      model: openai/gpt-4o-mini
      rpm: 100
      tpm: 100_000
      temperature: 0.1
      input_cost_per_token: 1.0e-05
      output_cost_per_token: 0.00015
      custom_exponent: 1e-5
      timeout: 1.0
      hex: 0x1F
      octal: 017
      big: 123456789012345678901
      neg_zero: -0.0
      huge: 1.0e+20
      edge: 10000000000000000.0
      under_edge: 1000000000000000.0
      inf: .inf
      ninf: -.inf
      nan: .nan
      quoted: "100"
      leading_zero: 09
  - model_name: flags
    litellm_params:
      model: anthropic/claude-3-5-sonnet
      stream: true
      use_in_pass_through: False
      merge_reasoning_content_in_choices: yes
      drop_params: off
      api_version: ~
      region_name:
      organization: null
  - model_name: nested
    litellm_params:
      model: azure/gpt-4o
      extra_headers: {X-Team: "a\\tb\\"c\\\\d", n: 1, f: 0.5, e: 1.0e-7, b: true, none: ~, list: [1, 2.0, x, "é"], deep: {k: v}}
      metadata: {}
      keys: {1: one, 2.5: two-and-a-half, true: yes-true, ~: none}
  - model_name: lists
    litellm_params:
      model: bedrock/claude
      tags: [a, "b'c", 'd"e', "f'g\\"h", 1, 1.5, true, null, {k: v, n: 2}, [], "tab\\there", "\\x7f"]
      empty: []
  - model_name: "modèle ☕"
    litellm_params:
      model: "vertex_ai/gemini-😀"
      api_base: "https://例え.test/café"
      extra_body: {note: "naïve 😀 ☕"}
  - model_name: merged
    litellm_params:
      <<: *defaults
      model: openai/gpt-4.1
      api_base: https://override.test
  - model_name: merged-list
    litellm_params:
      <<: [*defaults, *extra]
      model: openai/gpt-4.1-mini
  - model_name: with-info
    litellm_params: {model: openai/o3, rpm: 5}
    model_info: {access_groups: [beta], mode: chat}
  - model_name: stated
    litellm_params: {model: openai/o3}
    model_info: {id: my-own-id}
  - model_name: env-top
    litellm_params: {model: openai/o1, api_key: os.environ/OPENAI_API_KEY}
  - model_name: env-nested
    litellm_params: {model: openai/o1, extra_headers: {Authorization: os.environ/UPSTREAM_TOKEN}}
  - model_name: unicode-list
    litellm_params: {model: openai/o1, tags: ["café"]}
  - model_name: block-text
    litellm_params:
      model: openai/o1
      system_prompt: |
        line one
        line two
      folded: >
        a
        b
      plain_multi: first
        second
`;

const GENERATED: ReadonlyArray<readonly [string, string]> = [
    ["an openai deployment with string params", '2217c1f2b1f308b6ac9e2c5d96727fe34425e1bfd7ce711fd7fa7f5b568e4206'],
    ["ints (underscored, hex, octal, past 2^64), floats (0.1, 1.0e-05, 1.0, -0.0, 1e+16 and its edge, inf, nan) and PyYAML strings (1e-5, 09, \"100\")", 'ecb522470e42758213f61dc17fd035156637cc1607bdc0cd020101a48f3ca071'],
    ["booleans in every YAML 1.1 spelling and None (~, empty, null)", '94e96f734b757a61b52b506eda58ade14e4441f67ff8431dc1dcec33de58229b'],
    ["nested dicts through json.dumps (escapes, ensure_ascii, non-str keys, 1 == True)", '660679b447b20bf2cee1bb88674d0941ded8d9ecd9d4a76a4fe34e08337af2e6'],
    ["lists through str() (quote choice, escapes, nested dicts and lists)", '49a7123cf9522d0911f5847ed19bcada72e20eb872b923468b75e4124d7d1d6e'],
    ["unicode in the model group, strings and a dict", '135c1dad4ffa1da9e9235d6b91306341b17717bd5dc5da245f21f0267048353c'],
    ["a merge key, overridden", 'd5c5e26c9ff9121e2a34aed27f705516dd4419c3bf9fac3279c1954cb919fd1c'],
    ["a list of merge keys, the first winning", 'cc69cba5c03c73faac47fab12d6de3e76240952fd452b3cf095dbee266a16e4c'],
    ["a model_info without an id", '16a6b4bdbc7e87666f07d035a7329ff390af2bccbb9069947fdaec02426aafa0'],
];

const REFERENCE = join(__dirname, 'deployment-id-reference.py');

describe('deployment ids LiteLLM generates without model_info.id (Router._generate_model_id)', () => {
  const config = parseLiteLlmConfig(CONFIG, { OPENAI_API_KEY: 'sk-test', UPSTREAM_TOKEN: 'token' });
  const policy = buildPolicy(config);
  const idOf = (name: string) => policy.modelList.find((d) => d.modelName === name)?.modelId ?? null;

  GENERATED.forEach(([what, id], index) => {
    it(`hashes ${what} as LiteLLM does`, () => {
      expect(policy.modelList[index]?.modelId).to.equal(id);
    });
  });

  it('keeps an id the config states', () => {
    expect(idOf('stated')).to.equal('my-own-id');
  });

  it('makes no id where the proxy resolves os.environ/ values first (top level or nested): their secrets are not ours to see', () => {
    expect(idOf('env-top')).to.equal(null);
    expect(idOf('env-nested')).to.equal(null);
  });

  it("makes no id for a list holding non-ASCII text (its str() follows Python's printable table)", () => {
    expect(idOf('unicode-list')).to.equal(null);
  });

  it('resolves a generated id to its model group, and routes it', () => {
    const [, numbersId] = GENERATED[1] ?? ['', ''];
    expect(modelNameForModelId(policy, numbersId)).to.equal('numbers');
    expect(isRoutableModel(policy, numbersId)).to.equal(true);
    expect(modelNameForModelId(policy, numbersId.slice(1))).to.equal(null);
  });

  it('matches the Python reference wherever it makes an id', function () {
    const run = spawnSync('python3', [REFERENCE], { input: CONFIG, encoding: 'utf8' });
    if (run.error !== undefined || run.status !== 0) this.skip();
    const expected = JSON.parse(run.stdout) as (string | null)[];
    expect(expected).to.have.length(policy.modelList.length);
    policy.modelList.forEach((deployment, index) => {
      if (deployment.modelName === 'stated') return;
      const ours = deployment.modelId ?? null;
      if (ours !== null) expect(ours, deployment.modelName).to.equal(expected[index]);
      else expect(['env-top', 'env-nested', 'unicode-list'], deployment.modelName).to.include(deployment.modelName);
    });
  });

  it('refuses what it cannot reproduce rather than guess', () => {
    expect(generatedDeploymentId('g', { kind: 'list', items: [] })).to.equal(null);
    expect(generatedDeploymentId('os.environ/GROUP', { kind: 'dict', entries: [] })).to.equal(null);
    expect(generatedDeploymentId('g', { kind: 'dict', entries: [[{ kind: 'int', value: 1n }, { kind: 'str', value: 'x' }]] })).to.equal(null);
    expect(generatedDeploymentId('g', { kind: 'dict', entries: [] })).to.equal(
      // sha256('g')
      'cd0aa9856147b6c5b4ff2b7dfee5da20aa38253099ef1b4a64aced233c9afe29',
    );
  });
});
