import { expect } from 'chai';
import { IdentityAnswers } from '../../src/envoy/identity-answer';
import type { Identity } from '../../src/domain/decision';
import { someFacts } from './fixtures';

const HASH = 'b'.repeat(64);
const identity: Identity = { keyHash: HASH, keyAlias: 'ci-key', userId: 'u-1', teamId: 't-1', userRole: 'internal_user', model: 'gpt-4o' };

const headerPairs = (answer: { headers: readonly { header?: { key?: string; value?: string } }[] }): string[][] =>
  answer.headers.map((option) => [option.header?.key ?? '', option.header?.value ?? '']);

describe('IdentityAnswers (the identity part of an answer, built once per identity)', () => {
  it('hands the same frozen headers and fields to every Check of the same identity', () => {
    const answers = new IdentityAnswers();
    const first = answers.answerFor(identity, someFacts(), null);
    // A new but equal identity, as each Check builds its own.
    const second = answers.answerFor({ ...identity, keyHash: 'b'.repeat(64) }, someFacts({ requestId: 'req-2' }), null);
    expect(second).to.equal(first);
    expect(Object.isFrozen(first.headers)).to.equal(true);
    expect(first.headers.every((option) => Object.isFrozen(option) && Object.isFrozen(option.header))).to.equal(true);
    expect(Object.isFrozen(first.fields)).to.equal(true);
    expect(Object.values(first.fields).every((value) => Object.isFrozen(value))).to.equal(true);
    expect(headerPairs(first)).to.deep.equal([
      ['x-tollgate-key-hash', HASH],
      ['x-tollgate-key-alias', 'ci-key'],
      ['x-tollgate-user-id', 'u-1'],
      ['x-tollgate-team-id', 't-1'],
      ['x-tollgate-user-role', 'internal_user'],
      ['x-tollgate-model', 'gpt-4o'],
    ]);
  });

  it('answers a changed value at once, and keeps a few variants per caller', () => {
    const answers = new IdentityAnswers();
    const before = answers.answerFor(identity, someFacts(), null);
    const renamed = answers.answerFor({ ...identity, keyAlias: 'renamed' }, someFacts(), null);
    expect(renamed).to.not.equal(before);
    expect(renamed.fields.key_alias).to.deep.equal({ stringValue: 'renamed' });
    // Both variants are remembered: a key used for two models alternates without rebuilding.
    expect(answers.answerFor(identity, someFacts(), null)).to.equal(before);
    for (const model of ['m-1', 'm-2', 'm-3', 'm-4']) answers.answerFor({ ...identity, model }, someFacts(), null);
    const rebuilt = answers.answerFor(identity, someFacts(), null);
    expect(rebuilt, 'a fifth variant pushes the oldest out').to.not.equal(before);
    expect(rebuilt).to.deep.equal(before);
  });

  it('compares what the request contributes too: the end user and model it names', () => {
    const answers = new IdentityAnswers();
    const bare: Identity = { keyHash: HASH };
    const forAlice = answers.answerFor(bare, someFacts({ endUserId: 'alice', model: 'gpt-4o' }), null);
    const forBob = answers.answerFor(bare, someFacts({ endUserId: 'bob', model: ['a', 'b'] }), null);
    expect(forAlice.fields.end_user_id).to.deep.equal({ stringValue: 'alice' });
    expect(forAlice.fields.model).to.deep.equal({ stringValue: 'gpt-4o' });
    expect(forBob.fields.end_user_id).to.deep.equal({ stringValue: 'bob' });
    expect(forBob.fields.model).to.deep.equal({ stringValue: 'a,b' });
  });

  it('never sends a value holding the presented secret, and keeps header-unsafe values to the metadata', () => {
    const answers = new IdentityAnswers();
    const secret = 'sk-live-0123456789abcdef';
    const answer = answers.answerFor({ keyHash: HASH, keyAlias: `alias ${secret}`, userId: 'line\nbreak' }, someFacts(), secret);
    expect(answer.fields.key_alias).to.equal(undefined);
    expect(answer.fields.user_id).to.deep.equal({ stringValue: 'line\nbreak' });
    expect(headerPairs(answer)).to.deep.equal([['x-tollgate-key-hash', HASH]]);
    // The same identity presented with another secret is another answer.
    const other = answers.answerFor({ keyHash: HASH, keyAlias: `alias ${secret}`, userId: 'line\nbreak' }, someFacts(), 'sk-other-secret');
    expect(other.fields.key_alias).to.deep.equal({ stringValue: `alias ${secret}` });
  });

  it('remembers a bounded number of callers, forgetting the longest remembered first', () => {
    const answers = new IdentityAnswers(3);
    const first = answers.answerFor({ keyHash: 'k-1' }, someFacts(), null);
    for (const keyHash of ['k-2', 'k-3', 'k-4']) answers.answerFor({ keyHash }, someFacts(), null);
    expect(answers.size).to.equal(3);
    expect(answers.answerFor({ keyHash: 'k-1' }, someFacts(), null)).to.not.equal(first);
    expect(answers.size).to.equal(3);
  });

  it('remembers nothing when asked not to (denials), yet uses what it remembers', () => {
    const answers = new IdentityAnswers(2);
    const allowed = answers.answerFor({ keyHash: 'k-allowed' }, someFacts(), null);
    for (let i = 0; i < 10; i += 1) answers.answerFor({ keyHash: `made-up-${i}` }, someFacts(), null, false);
    expect(answers.size, 'made-up keys pushed nothing out').to.equal(1);
    expect(answers.answerFor({ keyHash: 'k-allowed' }, someFacts(), null, false)).to.equal(allowed);
  });

  it('remembers a caller without key or user by its team, organization or end user', () => {
    const answers = new IdentityAnswers();
    for (const caller of [{ teamId: 't-1' }, { orgId: 'o-1' }, { endUserId: 'e-1' }] as Identity[]) {
      const first = answers.answerFor(caller, someFacts(), null);
      expect(answers.answerFor({ ...caller }, someFacts(), null)).to.equal(first);
    }
    expect(answers.size).to.equal(3);
    // A team and a user of the same name are remembered apart, and each keeps its own answer.
    const team = answers.answerFor({ teamId: 'same' }, someFacts(), null);
    const user = answers.answerFor({ userId: 'same' }, someFacts(), null);
    expect(answers.size).to.equal(5);
    expect(team.fields.team_id).to.deep.equal({ stringValue: 'same' });
    expect(user.fields.user_id).to.deep.equal({ stringValue: 'same' });
    expect(user.fields.team_id).to.equal(undefined);
  });

  it('builds afresh, and remembers nothing, for an answer that names no caller', () => {
    const answers = new IdentityAnswers();
    const anonymous: Identity = { model: 'gpt-4o' };
    const first = answers.answerFor(anonymous, someFacts(), null);
    const second = answers.answerFor(anonymous, someFacts(), null);
    expect(second).to.not.equal(first);
    expect(second).to.deep.equal(first);
    expect(answers.size).to.equal(0);
  });

  it('has no fields and no headers for an empty identity', () => {
    const answer = new IdentityAnswers().answerFor({ userId: '' }, someFacts(), null);
    expect(answer.hasFields).to.equal(false);
    expect(answer.headers).to.deep.equal([]);
  });
});
