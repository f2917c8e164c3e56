import { expect } from 'chai';
import { globalSpendCutoff, toSqlUtc } from '../../src/store/spend-window';

describe('global spend window', () => {
  it('starts at midnight UTC, 30 days before today (CURRENT_DATE - 30 days)', () => {
    expect(globalSpendCutoff(new Date('2030-03-31T15:00:00.000Z')).toISOString()).to.equal('2030-03-01T00:00:00.000Z');
    expect(globalSpendCutoff(new Date('2030-03-31T00:00:00.000Z')).toISOString()).to.equal('2030-03-01T00:00:00.000Z');
    expect(globalSpendCutoff(new Date('2030-03-30T23:59:59.999Z')).toISOString()).to.equal('2030-02-28T00:00:00.000Z');
  });

  it('binds the cut-off as UTC text that DATETIME(3) and SQLite both compare', () => {
    expect(toSqlUtc(new Date('2030-03-01T04:05:06.007Z'))).to.equal('2030-03-01 04:05:06.007');
  });
});
