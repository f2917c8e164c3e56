import { expect } from 'chai';
import { UNREAD_MODEL } from '../../src/domain/request';
import { attributionFromDecision } from '../../src/metering/admitted-identity';
import { aRequest } from '../checks/fixtures';
import { anAllow } from '../envoy/fixtures';

describe('metering: who an admitted request is charged to', () => {
  it('takes the requested model, and none for a model that could not be read (never priced or logged as a model group)', () => {
    expect(attributionFromDecision(anAllow({ keyHash: 'h1' }), aRequest({ model: 'gpt-4o' })).model).to.equal('gpt-4o');
    expect(attributionFromDecision(anAllow({ keyHash: 'h1' }), aRequest({ model: UNREAD_MODEL })).model).to.equal(null);
  });
});
