import { expect } from 'chai';
import { nextStandardizedReset, resetZoneOf, UTC_RESET_ZONE } from '../../src/spend/standardized-reset';

/*
 * Expected values: LiteLLM's get_next_standardized_reset_time (duration_parser.py, with
 * _setup_timezone, _parse_duration, _normalize_duration and the _handle_*_reset helpers, midnight
 * reset time of day) run under CPython 3.11 with zoneinfo, as
 *
 *   from datetime import datetime, timedelta, timezone
 *   now = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=now_ms)
 *   try: expected = round(get_next_standardized_reset_time(duration, now, tz).timestamp() * 1000)
 *   except ValueError: expected = None
 *
 * and checked against this module on 37,440 generated cases (these durations, DST changes in 12
 * zones, month ends, random instants) with no difference.
 */
const cases: ReadonlyArray<readonly [reason: string, duration: string, now: string, zone: string, expected: string | null]> = [
  ['1d: the next midnight', '1d', '2026-03-07T15:00:00Z', 'UTC', '2026-03-08T00:00:00.000Z'],
  ['daily is 24h: the next midnight', 'daily', '2026-03-07T15:00:00Z', 'UTC', '2026-03-08T00:00:00.000Z'],
  ['24h at midnight: the next one', '24h', '2026-03-07T00:00:00Z', 'UTC', '2026-03-08T00:00:00.000Z'],
  ['7d on a Monday: the next Monday', '7d', '2026-11-30T00:00:00Z', 'UTC', '2026-12-07T00:00:00.000Z'],
  ['1w on a Sunday: tomorrow, Monday', '1w', '2026-11-29T21:19:00Z', 'UTC', '2026-11-30T00:00:00.000Z'],
  ['weekly on a Wednesday: the next Monday', 'weekly', '2026-12-02T08:00:00Z', 'UTC', '2026-12-07T00:00:00.000Z'],
  ['30d on January 31: February 1 (a month start, not 30 days on)', '30d', '2026-01-31T10:00:00Z', 'UTC', '2026-02-01T00:00:00.000Z'],
  ['monthly in December: January 1 of the next year', 'monthly', '2026-12-15T00:00:00Z', 'UTC', '2027-01-01T00:00:00.000Z'],
  ['1mo on the 1st at midnight: the next 1st', '1mo', '2026-12-01T00:00:00Z', 'UTC', '2027-01-01T00:00:00.000Z'],
  ['2mo: LiteLLM raises (only 1 month intervals)', '2mo', '2026-12-01T00:00:00Z', 'UTC', null],
  ['None from the UI: LiteLLM returns None', 'None', '2026-12-01T10:00:00Z', 'UTC', null],
  ['an empty duration: None', ' ', '2026-12-01T10:00:00Z', 'UTC', null],
  ['2d: midnight today + 2 days, across a month end', '2d', '2026-02-27T18:30:00Z', 'UTC', '2026-03-01T00:00:00.000Z'],
  ['31d: midnight today + 31 days', '31d', '2026-01-31T23:59:59.999Z', 'UTC', '2026-03-03T00:00:00.000Z'],
  ['2w: midnight today + 14 days', '2w', '2026-06-01T12:00:00Z', 'UTC', '2026-06-15T00:00:00.000Z'],
  ['1h on the hour: the next hour', '1h', '2026-06-01T12:00:00Z', 'UTC', '2026-06-01T13:00:00.000Z'],
  ['hourly: the next hour, milliseconds dropped', 'hourly', '2026-06-01T12:34:56.789Z', 'UTC', '2026-06-01T13:00:00.000Z'],
  ['5h at 21:10: 25 carries to 01:00 tomorrow', '5h', '2026-06-01T21:10:00Z', 'UTC', '2026-06-02T01:00:00.000Z'],
  ['7h after midnight: 07:00', '7h', '2026-06-01T00:30:00Z', 'UTC', '2026-06-01T07:00:00.000Z'],
  ['25h: 01:00 tomorrow', '25h', '2026-06-01T03:00:00Z', 'UTC', '2026-06-02T01:00:00.000Z'],
  ['30m at 23:45: midnight', '30m', '2026-06-01T23:45:00Z', 'UTC', '2026-06-02T00:00:00.000Z'],
  ['90m at 10:20: minute 90 carries to 11:30', '90m', '2026-06-01T10:20:00Z', 'UTC', '2026-06-01T11:30:00.000Z'],
  ['45s at :50: second 90 carries to the next minute :30', '45s', '2026-06-01T10:20:50Z', 'UTC', '2026-06-01T10:21:30.000Z'],
  ['3600s: 60 minutes on, the same minute of the next hour', '3600s', '2026-06-01T10:17:05Z', 'UTC', '2026-06-01T11:17:00.000Z'],
  ['0d: now', '0d', '2026-06-01T10:17:05Z', 'UTC', '2026-06-01T10:17:05.000Z'],
  ['30days: unit "days" unknown, the next midnight', '30days', '2026-06-14T10:00:00Z', 'UTC', '2026-06-15T00:00:00.000Z'],
  ['1month: unit "month" unknown, the next midnight', '1month', '2026-06-14T10:00:00Z', 'UTC', '2026-06-15T00:00:00.000Z'],
  ['New York, spring forward: the midnight after 22:30 local', '1d', '2026-03-08T03:30:00Z', 'America/New_York', '2026-03-08T05:00:00.000Z'],
  ['New York, the day of spring forward: the next midnight, EDT', '1d', '2026-03-08T12:00:00Z', 'America/New_York', '2026-03-09T04:00:00.000Z'],
  ['New York, 7d across spring forward: Monday midnight EDT', '7d', '2026-03-05T12:00:00Z', 'America/New_York', '2026-03-09T04:00:00.000Z'],
  ['New York, 30d: November 1 midnight, still EDT', '30d', '2026-10-31T12:00:00Z', 'America/New_York', '2026-11-01T04:00:00.000Z'],
  ['New York, 30d just before the month starts in New York (past it in UTC)', '30d', '2026-11-01T03:00:00Z', 'America/New_York', '2026-11-01T04:00:00.000Z'],
  ['New York, 1h at 01:30 EST: 02:00 is skipped, read with the offset before (EST)', '1h', '2026-03-08T06:30:00Z', 'America/New_York', '2026-03-08T07:00:00.000Z'],
  ['New York, 1h at 01:30 EDT (first pass): 02:00 EST, the repeated hour skipped', '1h', '2026-11-01T05:30:00Z', 'America/New_York', '2026-11-01T07:00:00.000Z'],
  ['New York, 1h at 01:30 EST (second pass): 02:00 EST', '1h', '2026-11-01T06:30:00Z', 'America/New_York', '2026-11-01T07:00:00.000Z'],
  ['New York, 30m at 01:10 EST (second pass): 01:30 keeps the fold, EST', '30m', '2026-11-01T06:10:00Z', 'America/New_York', '2026-11-01T06:30:00.000Z'],
  ['New York, 3d across spring forward: wall-clock days, midnight EDT', '3d', '2026-03-07T12:00:00Z', 'America/New_York', '2026-03-10T04:00:00.000Z'],
  ['Berlin, 1d on the night of spring forward: midnight CEST', '1d', '2026-03-28T23:30:00Z', 'Europe/Berlin', '2026-03-29T22:00:00.000Z'],
  ['Berlin, 30d on April 1 local (still March 31 in UTC): May 1', '30d', '2026-03-31T22:30:00Z', 'Europe/Berlin', '2026-04-30T22:00:00.000Z'],
  ['Berlin, 1mo across fall back: November 1 midnight CET', '1mo', '2026-10-15T00:00:00Z', 'Europe/Berlin', '2026-10-31T23:00:00.000Z'],
  ['Berlin, 7d across fall back: Monday midnight CET', '7d', '2026-10-20T00:00:00Z', 'Europe/Berlin', '2026-10-25T23:00:00.000Z'],
  ['Berlin, 1h before spring forward: 02:00 is skipped, 03:00 CEST', '1h', '2026-03-29T00:30:00Z', 'Europe/Berlin', '2026-03-29T01:00:00.000Z'],
  ['Kolkata: midnight at UTC+05:30', '1d', '2026-06-01T20:00:00Z', 'Asia/Kolkata', '2026-06-02T18:30:00.000Z'],
  ['US/Eastern, an alias: New York midnight', '1d', '2026-06-01T20:00:00Z', 'US/Eastern', '2026-06-02T04:00:00.000Z'],
  ['an unknown zone: UTC', '1d', '2026-06-01T20:00:00Z', 'Not/A_Zone', '2026-06-02T00:00:00.000Z'],
  ['a zone miscased (zoneinfo reads names as written): UTC', '1d', '2026-06-01T20:00:00Z', 'america/new_york', '2026-06-02T00:00:00.000Z'],
  ['an empty zone: UTC', '1d', '2026-06-01T20:00:00Z', '', '2026-06-02T00:00:00.000Z'],
  ['St. John\'s 2009, 30d in the repeated hour before November (second pass): the 1st takes fold 0, the first midnight', '30d', '2009-11-01T02:45:00Z', 'America/St_Johns', '2009-11-01T02:30:00.000Z'],
  ['St. John\'s 2009, 1mo likewise', '1mo', '2009-11-01T03:00:00Z', 'America/St_Johns', '2009-11-01T02:30:00.000Z'],
  ['Santiago, midnight skipped by spring forward: read with the offset before', '1d', '2026-09-05T12:00:00Z', 'America/Santiago', '2026-09-06T04:00:00.000Z'],
];

describe("spend: LiteLLM's standardized budget reset (get_next_standardized_reset_time)", () => {
  for (const [reason, duration, now, zone, expected] of cases) {
    it(`${duration} in ${zone === '' ? "''" : zone} at ${now}: ${reason}`, () => {
      const next = nextStandardizedReset(duration, Date.parse(now), resetZoneOf(zone));
      expect(next === null ? null : new Date(next).toISOString()).to.equal(expected);
    });
  }

  it('resolves no zone, an empty one and an unreadable one to UTC, as LiteLLM falls back', () => {
    for (const name of [null, undefined, '', 'UTC', 'Not/A_Zone', '+05:00', 'america/new_york']) {
      expect(resetZoneOf(name)).to.equal(UTC_RESET_ZONE);
    }
    expect(resetZoneOf('Europe/Berlin').name).to.equal('Europe/Berlin');
  });

  it('takes an alias only as the tz database spells it, as zoneinfo reads files by name', () => {
    for (const name of ['us/eastern', 'est5edt', 'navajo', 'etc/gmt+5', 'asia/calcutta', 'Etc/gmt+5']) {
      expect(resetZoneOf(name), name).to.equal(UTC_RESET_ZONE);
    }
    for (const name of ['US/Eastern', 'EST5EDT', 'Navajo', 'Etc/GMT+5', 'Asia/Calcutta', 'Europe/Kiev']) {
      expect(resetZoneOf(name).name, name).to.equal(name);
    }
  });
});
