import { expect } from 'chai';
import { decodeSpendEvent, encodeSpendEvent } from '../../src/spend/spend-event';
import { SPEND_LOG_COLUMNS, spendLogValues } from '../../src/spend/spend-log-row';
import { aSpendEvent } from '../support/spend';

function metadataOf(values: readonly unknown[]): Record<string, unknown> {
  return JSON.parse(values[SPEND_LOG_COLUMNS.indexOf('metadata')] as string) as Record<string, unknown>;
}

describe('spend: an estimated charge, queued and logged', () => {
  const reported = aSpendEvent({ chargeId: 'req-1:chatcmpl-1', requestId: 'req-1' });
  const estimated = { ...reported, usageEstimated: true };

  it('survives the queue with its flag, and a charge queued without one decodes as reported', () => {
    expect(decodeSpendEvent(encodeSpendEvent(estimated))).to.deep.equal(estimated);
    expect(decodeSpendEvent(encodeSpendEvent(reported))).to.deep.equal(reported);
    expect(decodeSpendEvent(encodeSpendEvent(reported))).not.to.have.property('usageEstimated');
  });

  it('says so in the SpendLogs metadata; a reported usage says nothing', () => {
    expect(metadataOf(spendLogValues(estimated))).to.deep.include({ usage_estimated: true, recorded_by: 'tollgate' });
    expect(metadataOf(spendLogValues(reported))).not.to.have.property('usage_estimated');
  });
});
