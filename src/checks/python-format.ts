/**
 * LiteLLM builds its error messages with Python f-strings. Clients (and their retry logic)
 * match on that text, so values are rendered the way Python would: `10.0` for a float spend,
 * `['gpt-4o']` for a list, `2025-01-01 00:00:00+00:00` for a datetime.
 */
import type { Json } from '../domain/entities';

/** Python `repr(float)`: shortest round-trip digits, `.0` on integral values, exponent outside [1e-4, 1e16). */
export function pyFloat(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (Object.is(value, -0)) return '-0.0';
  if (value === 0) return '0.0';
  const [mantissa, exponentText] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = negative ? '-' : '';
  if (exponent < -4 || exponent >= 16) {
    const body = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const expSign = exponent < 0 ? '-' : '+';
    return `${sign}${body}e${expSign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const intPart = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fracPart = digits.slice(exponent + 1);
  return `${sign}${intPart}.${fracPart === '' ? '0' : fracPart}`;
}

/**
 * Python `format(value, '.<digits>f')`: the exact binary value rounded to `digits` places, a tie
 * to the even digit (JavaScript's `toFixed` rounds a tie up: `0.125` → `0.13`, Python `0.12`).
 */
export function pyFixed(value: number, digits: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  // From 1e21 toFixed switches to exponent notation; such a double is an integer, which BigInt spells out whole.
  if (Math.abs(value) >= 1e21) return digits > 0 ? `${BigInt(value).toString()}.${'0'.repeat(digits)}` : BigInt(value).toString();
  const rounded = value.toFixed(digits);
  // toFixed(100) is the exact expansion for every double a budget holds (at most 100 places).
  const exact = Math.abs(value).toFixed(100);
  const point = exact.indexOf('.');
  const rest = exact.slice(point + 1 + digits);
  if (!/^50*$/.test(rest)) return rounded;
  const kept = exact.slice(0, point + 1 + digits).replace(/\.$/, '');
  const lastDigit = Number(kept[kept.length - 1]);
  const even = lastDigit % 2 === 0 ? kept : null;
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  return even === null ? rounded : `${sign}${even}`;
}

/**
 * A number read from the YAML config: Python keeps YAML integers as `int` (`100`) and floats as
 * `float` (`100.0`). A JavaScript number cannot tell them apart, so the config loader says which
 * way it was written (config/litellm-config.ts `isWrittenAsFloat`); unknown, integral values print as ints.
 */
export function pyConfigNumber(value: number, writtenAsFloat = false): string {
  return writtenAsFloat || !Number.isInteger(value) ? pyFloat(value) : String(value);
}

/** Python `repr(str)`. */
export function pyRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

/** Python `str(list_of_str)`: `['a', 'b']`. */
export function pyList(items: readonly string[]): string {
  return `[${items.map(pyRepr).join(', ')}]`;
}

/** Python `str(dict_of_str)`: `{'error': 'text'}`. */
export function pyDict(entries: Readonly<Record<string, string>>): string {
  return `{${Object.entries(entries)
    .map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`)
    .join(', ')}}`;
}

/** Python `str(aware_utc_datetime)`: `2025-01-01 09:30:00+00:00`, microseconds only when non-zero. */
export function pyUtcDatetime(date: Date): string {
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  const base =
    `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  const micros = date.getUTCMilliseconds() * 1000;
  return `${base}${micros === 0 ? '' : `.${pad(micros, 6)}`}+00:00`;
}

/**
 * Python `str()` of a value read from JSON: strings as they are, `True`/`False`/`None`, ints
 * without and floats with a fraction (a JSON number cannot say which it was written as: an
 * integral one prints as an int), lists and dicts as their repr.
 */
export function pyStr(value: Json): string {
  if (typeof value === 'string') return value;
  return pyReprOf(value);
}

function pyReprOf(value: Json): string {
  if (value === null) return 'None';
  if (typeof value === 'string') return pyRepr(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) < 1e16 ? String(value) : pyFloat(value);
  if (Array.isArray(value)) return `[${value.map(pyReprOf).join(', ')}]`;
  return `{${Object.entries(value)
    .map(([key, item]) => `${pyRepr(key)}: ${pyReprOf(item)}`)
    .join(', ')}}`;
}
