import { expect } from 'chai';
import { decodeSpendEvent, encodeSpendEvent } from '../../src/spend/spend-event';
import { aSpendEvent } from '../support/spend';

describe('spend: SpendEvent on the queue', () => {
  it('reads back what it wrote, both ids included', () => {
    const event = aSpendEvent({ chargeId: 'req-1:chatcmpl-1', requestId: 'req-1' });
    expect(decodeSpendEvent(encodeSpendEvent(event))).to.deep.equal(event);
  });

  it('keeps an empty x-request-id (the request had none)', () => {
    const event = aSpendEvent({ chargeId: '6f1c0c4e-5d7a-4b7e-9d55-0b1f3c2d4e5f', requestId: '' });
    expect(decodeSpendEvent(encodeSpendEvent(event))).to.deep.equal(event);
  });

  it('reads an entry queued before charge ids existed as charged under its request id', () => {
    const { chargeId: _dropped, ...legacy } = aSpendEvent({ chargeId: 'unused', requestId: 'req-old' });
    expect(decodeSpendEvent(JSON.stringify(legacy))).to.deep.include({ chargeId: 'req-old', requestId: 'req-old' });
  });

  it('drops an entry without any id, or not an event at all', () => {
    const { chargeId: _dropped, ...legacy } = aSpendEvent({ chargeId: 'unused', requestId: '' });
    expect(decodeSpendEvent(JSON.stringify(legacy))).to.equal(null);
    expect(decodeSpendEvent(JSON.stringify(aSpendEvent({ chargeId: '', requestId: 'req-1' })))).to.equal(null);
    for (const text of ['null', '[1]', '"text"', '{not json']) expect(decodeSpendEvent(text), text).to.equal(null);
  });
});
