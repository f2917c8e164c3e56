/**
 * LiteLLM's `get_next_standardized_reset_time` (litellm_core_utils/duration_parser.py), the moment
 * its reset job and its writes (`get_budget_reset_time`) set `budget_reset_at` to: budget resets
 * aligned to the calendar in `litellm_settings.timezone` rather than `now + duration`.
 *
 * - `1d` (`daily`): next midnight; `7d` / `1w` (`weekly`): next Monday's midnight; `30d` / `1mo`
 *   (`monthly`): midnight on the 1st of next month; any other `Nd` / `Nw`: midnight today + N
 *   (or 7N) days.
 * - `Nh`, `Nm`, `Ns`: the next hour (minute, second) of the day that is a multiple of N, with
 *   Python's carry (`90m` at 10:20 is 11:30; past midnight, only to the next day).
 * - `0d`, `0h`…: now. `Nmo` other than `1mo`: LiteLLM raises (null here). A text it cannot read
 *   (`30days`, `1month`, `30`): next midnight.
 *
 * Python does the wall-clock arithmetic on aware datetimes (adding days keeps the wall time, not
 * the elapsed hours), maps a wall time to an instant with PEP 495's `fold` (0: the offset before a
 * DST change, for a skipped and for a repeated hour alike), and `replace` keeps the fold of the
 * time it starts from: all three are reproduced here, with the platform's IANA data (Intl).
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Wider than any UTC offset, and than the hours between a DST change and the wall times it affects. */
const AROUND_MS = 2 * DAY_MS;

/** An IANA time zone, resolved once (config load): its UTC offset at any instant. */
export interface ResetZone {
  readonly name: string;
  /** Milliseconds to add to an instant to get its wall time. */
  readonly offsetAt: (instant: number) => number;
}

export const UTC_RESET_ZONE: ResetZone = Object.freeze({ name: 'UTC', offsetAt: () => 0 });

function intlOffsets(format: Intl.DateTimeFormat): (instant: number) => number {
  const exact = (instant: number): number => {
    const seconds = Math.floor(instant / 1000) * 1000;
    const part: Record<string, number> = {};
    for (const { type, value } of format.formatToParts(seconds)) part[type] = Number(value);
    return Date.UTC(part.year, part.month - 1, part.day, part.hour, part.minute, part.second) - seconds;
  };
  // Offsets change a few times a year, never twice within a day: a day (else an hour) whose first
  // and last seconds agree has that offset throughout, and is looked up once.
  const known = new Map<number, number>();
  const settled = (size: number, instant: number): number | null => {
    const bucket = Math.floor(instant / size);
    const key = size === DAY_MS ? bucket : -1 - bucket;
    const cached = known.get(key);
    if (cached !== undefined) return cached;
    const first = exact(bucket * size);
    if (first !== exact(bucket * size + size - 1000)) return null;
    if (known.size >= 100_000) known.clear();
    known.set(key, first);
    return first;
  };
  return (instant) => settled(DAY_MS, instant) ?? settled(HOUR_MS, instant) ?? exact(instant);
}

/**
 * The zone LiteLLM's `_setup_timezone` uses: `ZoneInfo(name)`, or UTC when unset, empty
 * (`get_budget_reset_timezone`'s `or "UTC"`) or a name it cannot load. Python's zoneinfo reads
 * names as the tz database spells them, so a name that only matches in another case is not one.
 */
export function resetZoneOf(name: string | null | undefined): ResetZone {
  if (name === null || name === undefined || name === '' || name === 'UTC') return UTC_RESET_ZONE;
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    return UTC_RESET_ZONE;
  }
  if (!isTzDatabaseName(name, format.resolvedOptions().timeZone)) return UTC_RESET_ZONE;
  return Object.freeze({ name, offsetAt: intlOffsets(format) });
}

/**
 * Intl also takes `+05:00` and any case; zoneinfo takes neither. A canonical name must be written
 * as the tz database writes it; so must an alias Intl resolves to itself (Asia/Calcutta). Other
 * aliases (US/Eastern resolves to America/New_York) cannot be checked letter by letter, but every
 * tz database name starts each part with a capital, so `us/eastern` or `est5edt` is none.
 */
function isTzDatabaseName(name: string, resolved: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return false;
  if (name.split('/').some((part) => !/^[A-Z]/.test(part))) return false;
  if (resolved.toLowerCase() === name.toLowerCase() && resolved !== name) return false;
  const supported = Intl.supportedValuesOf('timeZone');
  return supported.includes(name) || !supported.some((zone) => zone.toLowerCase() === name.toLowerCase());
}

/** A wall time in the zone, as milliseconds since 1970-01-01T00:00 of that wall clock, with its PEP 495 fold. */
interface Wall {
  readonly ms: number;
  readonly fold: 0 | 1;
}

/** Python's `utcoffset()` for a wall time: fold 0 takes the offset before a change, fold 1 the one after. */
function instantOf(wall: Wall, zone: ResetZone): number {
  const before = zone.offsetAt(wall.ms - AROUND_MS);
  const after = zone.offsetAt(wall.ms + AROUND_MS);
  if (before === after) return wall.ms - before;
  const fitsBefore = zone.offsetAt(wall.ms - before) === before;
  const fitsAfter = zone.offsetAt(wall.ms - after) === after;
  if (fitsBefore !== fitsAfter) return wall.ms - (fitsBefore ? before : after);
  // Repeated (both fit) or skipped (neither does): the fold decides.
  return wall.ms - (wall.fold === 0 ? before : after);
}

/** `astimezone`: the wall time of an instant, fold 1 for the second pass through a repeated hour. */
function wallOf(instant: number, zone: ResetZone): Wall {
  const ms = instant + zone.offsetAt(instant);
  return { ms, fold: instantOf({ ms, fold: 0 }, zone) === instant ? 0 : 1 };
}

/** `datetime.replace`: new fields, the same fold. */
function replaced(wall: Wall, fields: { hour?: number; minute?: number; second?: number; ms?: number; day?: number }): Wall {
  const d = new Date(wall.ms);
  const ms = Date.UTC(
    d.getUTCFullYear(),
    d.getUTCMonth(),
    fields.day ?? d.getUTCDate(),
    fields.hour ?? d.getUTCHours(),
    fields.minute ?? d.getUTCMinutes(),
    fields.second ?? d.getUTCSeconds(),
    fields.ms ?? d.getUTCMilliseconds(),
  );
  return { ms, fold: wall.fold };
}

/** `datetime + timedelta(days=n)`: wall-clock days, and Python's result has fold 0. */
function plusDays(wall: Wall, days: number): Wall {
  return { ms: wall.ms + days * DAY_MS, fold: 0 };
}

/** Python builds it with `datetime(…, tzinfo=tz)`: fold 0, whatever the fold of the time it starts from. */
function firstOfNextMonth(wall: Wall): Wall {
  const d = new Date(wall.ms);
  return { ms: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1), fold: 0 };
}

const WORDS: ReadonlyMap<string, string> = new Map([
  ['hourly', '1h'],
  ['daily', '24h'],
  ['weekly', '7d'],
  ['monthly', '30d'],
]);

/** `_normalize_duration`, then `_parse_duration`'s `re.match(r"(\d+)([a-z]+)")`. */
function parsed(duration: string): { value: number; unit: string } | null {
  const match = /^(\d+)([a-z]+)/.exec(WORDS.get(duration.trim().toLowerCase()) ?? duration);
  return match === null ? null : { value: Number(match[1]), unit: match[2] };
}

/** `next = n + value - n % value`, or `n + value` when n is aligned: the same either way. */
const nextAligned = (n: number, value: number): number => n + value - (n % value);

function clock(wall: Wall): { hour: number; minute: number; second: number } {
  const d = new Date(wall.ms);
  return { hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() };
}

/** From a wall hour/minute/second past the end of the day: Python keeps only the next day. */
function atTime(current: Wall, midnight: Wall, hour: number, minute: number, second: number): Wall {
  if (hour >= 24) return replaced(plusDays(midnight, 1), { hour: hour % 24, minute, second, ms: 0 });
  return replaced(current, { hour, minute, second, ms: 0 });
}

function nextWall(current: Wall, value: number, unit: string): Wall | null {
  const midnight = replaced(current, { hour: 0, minute: 0, second: 0, ms: 0 });
  const { hour, minute, second } = clock(current);
  switch (unit) {
    case 'd':
    case 'w': {
      const days = unit === 'w' ? value * 7 : value;
      if (days === 0) return current;
      if (days === 1) return plusDays(midnight, 1);
      if (days === 7) {
        // Python's weekday(): Monday is 0; on a Monday, the next one.
        const weekday = (new Date(midnight.ms).getUTCDay() + 6) % 7;
        return plusDays(midnight, weekday === 0 ? 7 : 7 - weekday);
      }
      if (days === 30) return firstOfNextMonth(midnight);
      return plusDays(midnight, days);
    }
    case 'h': {
      if (value === 0) return current;
      return atTime(current, midnight, nextAligned(hour, value), 0, 0);
    }
    case 'm': {
      if (value === 0) return current;
      const minutes = nextAligned(minute, value);
      return atTime(current, midnight, hour + Math.floor(minutes / 60), minutes % 60, 0);
    }
    case 's': {
      if (value === 0) return current;
      const seconds = nextAligned(second, value);
      const minutes = minute + Math.floor(seconds / 60);
      return atTime(current, midnight, hour + Math.floor(minutes / 60), minutes % 60, seconds % 60);
    }
    case 'mo':
      // "Monthly resets currently only support 1 month intervals" (a ValueError in LiteLLM).
      return value === 1 ? firstOfNextMonth(midnight) : null;
    default:
      return plusDays(midnight, 1);
  }
}

const NO_DURATION: ReadonlySet<string> = new Set(['', 'none', 'null']);

/**
 * LiteLLM's `get_next_standardized_reset_time(duration, now, timezone)` as epoch ms; null where it
 * returns None (`''`, `none`, `null`), raises (`2mo`) or where the result is past any date (Python's OverflowError).
 */
export function nextStandardizedReset(duration: string, now: number, zone: ResetZone = UTC_RESET_ZONE): number | null {
  // Its guard against the UI's stringified None: no reset at all, not the next midnight.
  if (NO_DURATION.has(duration.trim().toLowerCase())) return null;
  const current = wallOf(now, zone);
  const read = parsed(duration);
  const next = read === null ? plusDays(replaced(current, { hour: 0, minute: 0, second: 0, ms: 0 }), 1) : nextWall(current, read.value, read.unit);
  if (next === null || !Number.isFinite(next.ms) || Math.abs(next.ms) > 8.64e15 - AROUND_MS) return null;
  return next === current ? now : instantOf(next, zone);
}
