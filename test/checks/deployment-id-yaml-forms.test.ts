import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { buildPolicy } from '../../src/config/policy';

/**
 * YAML forms where PyYAML's reading, or what LiteLLM's router makes of it, is easy to get wrong.
 * Ids are pinned from deployment-id-reference.py (PyYAML safe_load, then the router), and checked
 * against it again wherever python3 has PyYAML; null where Tollgate leaves the entry without an id.
 */
const CONFIG = `model_list:
  - model_name: leading-dot
    litellm_params: {model: openai/o1, a: ._1_, b: .5_0, c: ._}
  - model_name: non-specific-tag
    litellm_params: {model: openai/o1, a: ! 5, b: ! "yes", c: ! [1, ! x], d: ! {k: ! ""}, e: ! '1.5'}
  - model_name: stated-int
    litellm_params: {model: openai/o1}
    model_info: {id: 5}
  - model_name: stated-bool
    litellm_params: {model: openai/o1}
    model_info: {id: yes}
  - model_name: stated-big
    litellm_params: {model: openai/o1}
    model_info: {id: 123456789012345678901234567890}
  - model_name: stated-merged-hex
    litellm_params: {model: openai/o1}
    model_info: {<<: {id: 0x1F}, mode: chat}
  - model_name: stated-none
    litellm_params: {model: openai/o1}
    model_info: {id: ~}
  - model_name: stated-float
    litellm_params: {model: openai/o1}
    model_info: {id: 1.0}
  - model_name: set
    litellm_params: {model: openai/o1, a: !!set {x, y}}
  - model_name: pairs
    litellm_params: {model: openai/o1, a: !!omap [x: 1]}
  - model_name: recursive
    litellm_params: {model: openai/o1, a: &r [1, *r]}
  - model_name: lone-surrogate
    litellm_params: {model: openai/o1, a: "\\ud800"}
`;

const EXPECTED: ReadonlyArray<readonly [string, string | null, string]> = [
  ['leading-dot', '447300778babac5e8165082ce21de595da4fb6ebaa2017f621561da51d63f9ac', 'a float after a lone dot needs a digit first (PyYAML 6): `._1_` and `._` are strings, `.5_0` is 0.5'],
  ['non-specific-tag', 'ee0015c431e6af95fabd1e0d710199603439c7cefdd792831de06ca8571be33e', 'PyYAML resolves a `!`-tagged scalar as a plain one, quoted or not (`! "yes"` is True)'],
  ['stated-int', '5', 'ModelInfo holds an int id as its str()'],
  ['stated-bool', 'True', 'a bool id is an int to ModelInfo, so str() too'],
  ['stated-big', '123456789012345678901234567890', 'an int id past 2^53 keeps every digit'],
  ['stated-merged-hex', '31', 'an id brought in by a merge key, written in hex'],
  ['stated-none', null, 'a None id becomes a random uuid4, which nothing can name'],
  ['stated-float', null, 'a float id: pydantic refuses it and LiteLLM does not start'],
  ['set', null, "a !!set: its str() follows Python's hash order"],
  ['pairs', null, 'a !!omap: a list of tuples, printed as neither a list nor a dict of ours'],
  ['recursive', null, 'a list holding itself'],
  ['lone-surrogate', null, "a lone surrogate: Python's encode() refuses it, LiteLLM does not start"],
];

const REFERENCE = join(__dirname, 'deployment-id-reference.py');

describe('deployment ids for YAML forms PyYAML reads its own way', () => {
  const policy = buildPolicy(parseLiteLlmConfig(CONFIG, {}));

  EXPECTED.forEach(([name, id, why], index) => {
    it(`${name}: ${why}`, () => {
      expect(policy.modelList[index]?.modelName).to.equal(name);
      expect(policy.modelList[index]?.modelId ?? null).to.equal(id);
    });
  });

  it('resolves a stated int id to its model group', () => {
    expect(policy.modelList.find((d) => d.modelId === '5')?.modelName).to.equal('stated-int');
  });

  it('loads, without an id, an entry whose ints PyYAML matches but cannot read (0b_, 0x_)', () => {
    const config = parseLiteLlmConfig('model_list:\n  - model_name: g\n    litellm_params: {model: openai/o1, a: 0b_, b: [-0x_]}\n', {});
    expect(buildPolicy(config).modelList[0]?.modelId ?? null).to.equal(null);
  });

  it('matches the Python reference', function () {
    const run = spawnSync('python3', [REFERENCE], { input: CONFIG, encoding: 'utf8' });
    if (run.error !== undefined || run.status !== 0) this.skip();
    const python = JSON.parse(run.stdout) as (string | null | { error: string })[];
    EXPECTED.forEach(([name, id], index) => {
      const want = python[index];
      // Where Python fails, or hashes a set in its per-process order, there is no id to match.
      if (id === null) return;
      expect(want, name).to.equal(id);
    });
  });
});
