import { expect } from 'chai';
import { areBudgetChecksSkipped, isZeroCostRequest, runChecks } from '../../src/checks/engine';
import type { Check } from '../../src/checks/types';
import { deny } from '../../src/checks/types';
import { aContext, aDeployment, aPolicy } from './fixtures';

const passing: Check = { name: 'passing', spec: '§test', decide: () => null };
const refusing = (name: string): Check => ({ name, spec: '§test', decide: () => deny(401, 'auth_error', name) });

describe('runChecks', () => {
  it('returns null when every check passes', () => {
    expect(runChecks(aContext(), [passing, passing])).to.equal(null);
  });

  it('returns the first refusal with the refusing check name, and runs nothing after it', () => {
    let ranAfter = false;
    const spy: Check = { name: 'spy', spec: '§test', decide: () => ((ranAfter = true), null) };
    const refusal = runChecks(aContext(), [passing, refusing('first'), refusing('second'), spy]);
    expect(refusal).to.deep.equal({ check: 'first', denial: deny(401, 'auth_error', 'first') });
    expect(ranAfter).to.equal(false);
  });
});

describe('budget scope — §2.7.5, README §4.1', () => {
  const free = aPolicy({ modelList: [aDeployment({ modelName: 'free', inputCostPerToken: 0, outputCostPerToken: 0 })] });

  it('skips budgets on info routes', () => {
    expect(areBudgetChecksSkipped(aContext({ request: { route: '/v1/models', model: null } }))).to.equal(true);
    expect(areBudgetChecksSkipped(aContext({ request: { route: '/key/info', model: null } }))).to.equal(true);
  });

  it('skips budgets when every requested model is explicitly free', () => {
    expect(isZeroCostRequest(['free'], free)).to.equal(true);
    expect(isZeroCostRequest(['free', 'gpt-4o'], free)).to.equal(false);
    expect(isZeroCostRequest([], free)).to.equal(false);
  });

  it('keeps budgets on an LLM route for a paid model', () => {
    expect(areBudgetChecksSkipped(aContext())).to.equal(false);
  });
});
