/**
 * A strict reader of proto3 JSON (what Envoy's YAML configs are) against protobufjs reflection types.
 *
 * Why not `Type.fromObject`: it silently drops unknown fields and coerces wrong types, so a misspelled
 * `failure_mode_alow: true` would pass and Envoy would later refuse to start (or, worse, a typo in an
 * optional field would be ignored by us and rejected by Envoy in production). This walker fails on:
 * unknown fields (with a "did you mean" hint), wrong JSON types, out-of-range integers, unknown or
 * deprecated enum names, malformed Durations/Timestamps, deprecated fields, two members of a oneof,
 * unresolvable `@type`s, and the protoc-gen-validate rules Envoy itself enforces at load time
 * (required messages and oneofs, string lengths and patterns, numeric bounds, list sizes, Duration bounds).
 *
 * The output is an object `Type.fromObject` accepts unchanged (Any packed to bytes, Durations as
 * {seconds, nanos}, Struct as fields/Values), so the config can be encoded as the real message.
 */
import * as protobuf from 'protobufjs';
import { describe, isObject, type JsonObject } from './json';

export class ProtoJsonError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  }
}

export interface Decoded {
  /** The config as the real protobuf message (already encoded and decoded once). */
  readonly message: protobuf.Message;
  /** The decoded message as plain data: snake_case names, enum names, 64-bit numbers as strings,
   *  every Any unpacked into `{ '@type': 'full.type.Name', ...fields }`. */
  readonly tree: JsonObject;
  /** Every message type that appeared behind an `@type`. */
  readonly anyTypes: ReadonlySet<string>;
}

const WRAPPERS: Readonly<Record<string, string>> = {
  '.google.protobuf.DoubleValue': 'double',
  '.google.protobuf.FloatValue': 'float',
  '.google.protobuf.Int64Value': 'int64',
  '.google.protobuf.UInt64Value': 'uint64',
  '.google.protobuf.Int32Value': 'int32',
  '.google.protobuf.UInt32Value': 'uint32',
  '.google.protobuf.BoolValue': 'bool',
  '.google.protobuf.StringValue': 'string',
  '.google.protobuf.BytesValue': 'bytes',
};

/** Types whose JSON form is not an object of fields; inside an Any their JSON goes under "value". */
const SPECIAL_JSON = new Set([
  '.google.protobuf.Any',
  '.google.protobuf.Duration',
  '.google.protobuf.Timestamp',
  '.google.protobuf.FieldMask',
  '.google.protobuf.Struct',
  '.google.protobuf.Value',
  '.google.protobuf.ListValue',
  ...Object.keys(WRAPPERS),
]);

const TYPE_URL_PREFIX = 'type.googleapis.com/';
const DURATION = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const INTEGER_STRING = /^-?\d{1,20}$/;

/** protoc-gen-validate's well-known header regexes (validate.proto, KnownRegex). */
const HEADER_NAME_STRICT = /^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+$/;
// eslint-disable-next-line no-control-regex
const HEADER_VALUE_STRICT = /^[^\u0000-\u0008\u000A-\u001F\u007F]*$/;
// eslint-disable-next-line no-control-regex
const HEADER_LOOSE = /^[^\u0000\u000A\u000D]*$/;

function shortName(type: protobuf.ReflectionObject): string {
  return type.fullName.replace(/^\./, '');
}

function join(at: string, key: string): string {
  return at === '' ? key : `${at}.${key}`;
}

function camel(snake: string): string {
  return snake.replace(/_([a-z0-9])/g, (_m: string, c: string) => c.toUpperCase());
}

function isDeprecated(options: Record<string, unknown> | undefined): boolean {
  return options?.deprecated === true || options?.['(envoy.annotations.disallowed_by_default)'] === true;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_v, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const saved = row[j] ?? 0;
      row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = saved;
    }
  }
  return row[b.length] ?? 0;
}

function suggestion(type: protobuf.Type, key: string): string {
  const names = type.fieldsArray.map((f) => f.name);
  const best = names
    .map((name) => ({ name, distance: Math.min(editDistance(key, name), editDistance(key, camel(name))) }))
    .sort((x, y) => x.distance - y.distance)[0];
  return best !== undefined && best.distance <= 3 ? ` (did you mean '${best.name}'?)` : '';
}

function fieldFor(type: protobuf.Type, key: string): protobuf.Field | undefined {
  return type.fields[key] ?? type.fieldsArray.find((f) => camel(f.name) === key);
}

/** The merged `(validate.rules)` option of a field, e.g. `{ string: { min_len: 1 } }`. */
function validateRules(field: protobuf.Field): JsonObject | undefined {
  const entries = (field.parsedOptions ?? []) as unknown[];
  let merged: JsonObject | undefined;
  for (const entry of entries) {
    if (!isObject(entry)) continue;
    const rules = entry['(validate.rules)'];
    if (isObject(rules)) merged = { ...(merged ?? {}), ...rules };
  }
  return merged;
}

function nanosOf(duration: unknown): number {
  if (!isObject(duration)) return 0;
  return Number(duration.seconds ?? 0) * 1e9 + Number(duration.nanos ?? 0);
}

function asRuleNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') return Number(value);
  return undefined;
}

class Walker {
  readonly problems: string[] = [];
  readonly anyTypes = new Set<string>();

  constructor(private readonly root: protobuf.Root) {}

  fail(at: string, message: string): void {
    this.problems.push(`${at === '' ? '(root)' : at}: ${message}`);
  }

  message(type: protobuf.Type, value: unknown, at: string): unknown {
    switch (type.fullName) {
      case '.google.protobuf.Any':
        return this.any(value, at);
      case '.google.protobuf.Duration':
        return this.duration(value, at);
      case '.google.protobuf.Timestamp':
        return this.timestamp(value, at);
      case '.google.protobuf.Struct':
        return this.struct(value, at);
      case '.google.protobuf.Value':
        return this.value(value, at);
      case '.google.protobuf.ListValue':
        return this.listValue(value, at);
      case '.google.protobuf.FieldMask':
        if (typeof value !== 'string') this.fail(at, `a FieldMask is a comma-separated string, got ${describe(value)}`);
        return { paths: typeof value === 'string' ? value.split(',').filter((p) => p !== '') : [] };
      default:
        break;
    }
    const wrapped = WRAPPERS[type.fullName];
    if (wrapped !== undefined) return { value: this.scalar(wrapped, value, at) };
    return this.fields(type, value, at);
  }

  private fields(type: protobuf.Type, value: unknown, at: string): JsonObject {
    const out: JsonObject = {};
    if (!isObject(value)) {
      this.fail(at, `expected a ${shortName(type)} object, got ${describe(value)}`);
      return out;
    }
    for (const [key, raw] of Object.entries(value)) {
      const here = join(at, key);
      const field = fieldFor(type, key);
      if (field === undefined) {
        this.fail(here, `unknown field '${key}' in ${shortName(type)}${suggestion(type, key)}`);
        continue;
      }
      if (field.name in out) {
        this.fail(here, `field '${field.name}' is given twice (snake_case and camelCase spellings)`);
        continue;
      }
      if (isDeprecated(field.options)) this.fail(here, `field '${field.name}' of ${shortName(type)} is deprecated`);
      if (raw === null && field.resolvedType?.fullName !== '.google.protobuf.Value') {
        this.fail(here, 'null is not a value here; omit the field instead');
        continue;
      }
      out[field.name] = this.fieldValue(field, raw, here);
    }
    for (const oneof of type.oneofsArray) {
      const set = oneof.oneof.filter((name) => name in out);
      if (set.length > 1) this.fail(at, `only one of ${set.join(', ')} may be set (oneof '${oneof.name}' of ${shortName(type)})`);
      if (set.length === 0 && oneof.options?.['(validate.required)'] === true) {
        this.fail(at, `one of ${oneof.oneof.join(' | ')} is required in ${shortName(type)}`);
      }
    }
    for (const field of type.fieldsArray) this.rules(type, field, field.name in out, out[field.name], join(at, field.name));
    return out;
  }

  private fieldValue(field: protobuf.Field, raw: unknown, at: string): unknown {
    if (field.map) {
      if (!isObject(raw)) {
        this.fail(at, `expected a map (object), got ${describe(raw)}`);
        return {};
      }
      const keyType = (field as unknown as protobuf.MapField).keyType;
      return Object.fromEntries(
        Object.entries(raw).map(([key, item]) => {
          if (keyType === 'bool' ? !['true', 'false'].includes(key) : keyType !== 'string' && !INTEGER_STRING.test(key)) {
            this.fail(join(at, key), `map key '${key}' is not a ${keyType}`);
          }
          return [key, this.single(field, item, join(at, key))];
        }),
      );
    }
    if (field.repeated) {
      if (!Array.isArray(raw)) {
        this.fail(at, `expected a list, got ${describe(raw)}`);
        return [];
      }
      return raw.map((item, i) => this.single(field, item, `${at}[${i}]`));
    }
    return this.single(field, raw, at);
  }

  private single(field: protobuf.Field, raw: unknown, at: string): unknown {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) return this.message(resolved, raw, at);
    if (resolved instanceof protobuf.Enum) return this.enumValue(resolved, raw, at);
    return this.scalar(field.type, raw, at);
  }

  private enumValue(type: protobuf.Enum, raw: unknown, at: string): string | undefined {
    let name: string | undefined;
    if (typeof raw === 'string') name = raw in type.values ? raw : undefined;
    else if (typeof raw === 'number') name = Object.keys(type.values).find((k) => type.values[k] === raw);
    if (name === undefined) {
      this.fail(at, `${describe(raw)} is not a value of enum ${shortName(type)} (one of ${Object.keys(type.values).join(', ')})`);
      return undefined;
    }
    if (isDeprecated(type.valuesOptions?.[name])) this.fail(at, `enum value ${name} of ${shortName(type)} is deprecated`);
    return name;
  }

  private scalar(kind: string, raw: unknown, at: string): unknown {
    const integer = (min: number, max: number): unknown => {
      if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
        this.fail(at, `expected a ${kind} (integer ${min}..${max}), got ${describe(raw)}`);
      }
      return raw;
    };
    const wide = (unsigned: boolean): unknown => {
      const ok =
        (typeof raw === 'number' && Number.isSafeInteger(raw)) || (typeof raw === 'string' && INTEGER_STRING.test(raw));
      if (!ok || (unsigned && Number(raw) < 0)) this.fail(at, `expected a ${kind} (integer or decimal string), got ${describe(raw)}`);
      return raw;
    };
    switch (kind) {
      case 'string':
        if (typeof raw !== 'string') this.fail(at, `expected a string, got ${describe(raw)}`);
        return raw;
      case 'bool':
        if (typeof raw !== 'boolean') this.fail(at, `expected true or false, got ${describe(raw)}`);
        return raw;
      case 'double':
      case 'float':
        if (!(typeof raw === 'number' && Number.isFinite(raw)) && !['NaN', 'Infinity', '-Infinity'].includes(String(raw))) {
          this.fail(at, `expected a number, got ${describe(raw)}`);
        }
        return typeof raw === 'string' ? Number(raw) : raw;
      case 'int32':
      case 'sint32':
      case 'sfixed32':
        return integer(-0x80000000, 0x7fffffff);
      case 'uint32':
      case 'fixed32':
        return integer(0, 0xffffffff);
      case 'int64':
      case 'sint64':
      case 'sfixed64':
        return wide(false);
      case 'uint64':
      case 'fixed64':
        return wide(true);
      case 'bytes':
        if (typeof raw !== 'string' || !BASE64.test(raw)) this.fail(at, `expected base64 bytes, got ${describe(raw)}`);
        return raw;
      default:
        this.fail(at, `unsupported scalar type ${kind}`);
        return raw;
    }
  }

  private any(value: unknown, at: string): JsonObject {
    const empty = { type_url: '', value: new Uint8Array() };
    if (!isObject(value)) {
      this.fail(at, `expected an Any object with '@type', got ${describe(value)}`);
      return empty;
    }
    const url = value['@type'];
    if (typeof url !== 'string') {
      this.fail(at, `an Any needs an '@type' string naming its message type`);
      return empty;
    }
    if (!url.startsWith(TYPE_URL_PREFIX)) this.fail(at, `'@type' should be ${TYPE_URL_PREFIX}<message>, got '${url}'`);
    const typeName = url.slice(url.lastIndexOf('/') + 1);
    const type = this.lookupType(typeName);
    if (type === undefined) {
      this.fail(at, `unknown Any type '${typeName}' (not among the loaded Envoy protos; see ENVOY_PROTO_FILES)`);
      return empty;
    }
    this.anyTypes.add(typeName);
    const payload: JsonObject = { ...value };
    delete payload['@type'];
    let body: unknown = payload;
    if (SPECIAL_JSON.has(type.fullName)) {
      const extra = Object.keys(payload).filter((k) => k !== 'value');
      if (extra.length > 0) this.fail(at, `an Any of ${typeName} carries its JSON under 'value' only, not ${extra.join(', ')}`);
      body = payload.value;
    }
    const before = this.problems.length;
    const converted = this.message(type, body, at);
    if (this.problems.length > before || !isObject(converted)) return { type_url: url, value: new Uint8Array() };
    return { type_url: url, value: type.encode(type.fromObject(converted)).finish() };
  }

  private lookupType(name: string): protobuf.Type | undefined {
    const found = this.root.lookup(name);
    return found instanceof protobuf.Type ? found : undefined;
  }

  private duration(value: unknown, at: string): JsonObject {
    const match = typeof value === 'string' ? DURATION.exec(value) : null;
    if (match === null) {
      this.fail(at, `a Duration is a string like "0.5s" or "600s", got ${describe(value)}`);
      return {};
    }
    const sign = match[1] === '-' ? -1 : 1;
    const seconds = Number(match[2]);
    const nanos = Number((match[3] ?? '').padEnd(9, '0'));
    if (seconds > 315_576_000_000) this.fail(at, 'Duration out of range');
    return { seconds: sign * seconds, nanos: sign * nanos };
  }

  private timestamp(value: unknown, at: string): JsonObject {
    if (typeof value !== 'string' || !TIMESTAMP.test(value) || Number.isNaN(Date.parse(value))) {
      this.fail(at, `a Timestamp is an RFC 3339 string, got ${describe(value)}`);
      return {};
    }
    const millis = Date.parse(value);
    return { seconds: Math.floor(millis / 1000), nanos: (millis % 1000) * 1e6 };
  }

  private struct(value: unknown, at: string): JsonObject {
    if (!isObject(value)) {
      this.fail(at, `a Struct is an object, got ${describe(value)}`);
      return { fields: {} };
    }
    return { fields: Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.value(v, join(at, k))])) };
  }

  private listValue(value: unknown, at: string): JsonObject {
    if (!Array.isArray(value)) {
      this.fail(at, `a ListValue is a list, got ${describe(value)}`);
      return { values: [] };
    }
    return { values: value.map((v, i) => this.value(v, `${at}[${i}]`)) };
  }

  private value(value: unknown, at: string): JsonObject {
    const kind = (name: string, v: unknown): JsonObject => ({ [this.valueFieldName(name)]: v });
    if (value === null) return kind('null_value', 'NULL_VALUE');
    if (typeof value === 'number') return kind('number_value', value);
    if (typeof value === 'string') return kind('string_value', value);
    if (typeof value === 'boolean') return kind('bool_value', value);
    if (Array.isArray(value)) return kind('list_value', this.listValue(value, at));
    return kind('struct_value', this.struct(value, at));
  }

  /**
   * google.protobuf.Value's field names as protobufjs knows them: its bundled well-known types are
   * camelCase (stringValue) even when the rest of the Root keeps proto case (string_value).
   */
  private valueFieldName(snake: string): string {
    const fields = this.root.lookupType('google.protobuf.Value').fields;
    return snake in fields ? snake : camel(snake);
  }

  // ---- protoc-gen-validate rules (the subset Envoy's API uses on the messages we load) ----

  private rules(owner: protobuf.Type, field: protobuf.Field, present: boolean, value: unknown, at: string): void {
    const rules = validateRules(field);
    if (rules === undefined) return;
    // A unset member of a oneof (or a proto3 `optional`) is not validated.
    if (field.partOf !== null && !present) return;
    const required = (kind: string): boolean => isObject(rules[kind]) && (rules[kind] as JsonObject).required === true;
    if (!present && ['message', 'duration', 'any', 'timestamp'].some(required)) {
      this.fail(at, `required field '${field.name}' of ${shortName(owner)} is missing`);
      return;
    }
    if (isObject(rules.message) && rules.message.skip === true) return;
    if (field.map) {
      const pairs = present && isObject(value) ? Object.keys(value).length : 0;
      this.bounds(rules.map, 'min_pairs', 'max_pairs', pairs, at, 'entries');
      return;
    }
    if (field.repeated) {
      const items = present && Array.isArray(value) ? value : [];
      this.bounds(rules.repeated, 'min_items', 'max_items', items.length, at, 'items');
      const itemRules = isObject(rules.repeated) ? rules.repeated.items : undefined;
      if (isObject(itemRules)) items.forEach((item, i) => this.scalarRules(field, itemRules, item, `${at}[${i}]`));
      return;
    }
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) {
      if (!present) return;
      if (resolved.fullName === '.google.protobuf.Duration' && isObject(rules.duration)) {
        this.numberRules(rules.duration, nanosOf(value), at, (n) => `${n / 1e9}s`, nanosOf);
      } else if (WRAPPERS[resolved.fullName] !== undefined && isObject(value)) {
        this.scalarRules(field, rules, value.value, at);
      }
      return;
    }
    this.scalarRules(field, rules, present ? value : defaultValue(field), at);
  }

  private scalarRules(field: protobuf.Field, rules: JsonObject, value: unknown, at: string): void {
    for (const [kind, raw] of Object.entries(rules)) {
      if (!isObject(raw)) continue;
      if (raw.ignore_empty === true && (value === '' || value === 0 || value === false || value === undefined)) continue;
      if (kind === 'string' && typeof value === 'string') this.stringRules(raw, value, at);
      else if (kind === 'bool' && typeof raw.const === 'boolean' && value !== raw.const) {
        this.fail(at, `must be ${String(raw.const)}`);
      } else if (kind === 'enum' && field.resolvedType instanceof protobuf.Enum) {
        const number = typeof value === 'string' ? field.resolvedType.values[value] : undefined;
        if (number !== undefined) this.numberRules(raw, number, at, String, asRuleNumber);
      } else if (typeof value === 'number' || (typeof value === 'string' && INTEGER_STRING.test(value))) {
        if (kind !== 'string' && kind !== 'bytes') this.numberRules(raw, Number(value), at, String, asRuleNumber);
      }
    }
  }

  private numberRules(
    rules: JsonObject,
    value: number,
    at: string,
    show: (n: number) => string,
    read: (raw: unknown) => number | undefined,
  ): void {
    const bound = (key: string): number | undefined => (key in rules ? read(rules[key]) : undefined);
    const [gt, gte, lt, lte, exact] = ['gt', 'gte', 'lt', 'lte', 'const'].map(bound);
    if (gt !== undefined && !(value > gt)) this.fail(at, `must be > ${show(gt)}, got ${show(value)}`);
    if (gte !== undefined && !(value >= gte)) this.fail(at, `must be >= ${show(gte)}, got ${show(value)}`);
    if (lt !== undefined && !(value < lt)) this.fail(at, `must be < ${show(lt)}, got ${show(value)}`);
    if (lte !== undefined && !(value <= lte)) this.fail(at, `must be <= ${show(lte)}, got ${show(value)}`);
    if (exact !== undefined && value !== exact) this.fail(at, `must be ${show(exact)}, got ${show(value)}`);
    if (Array.isArray(rules.in) && !rules.in.map(read).includes(value)) this.fail(at, `${show(value)} is not an allowed value`);
    if (Array.isArray(rules.not_in) && rules.not_in.map(read).includes(value)) this.fail(at, `${show(value)} is not allowed`);
  }

  private stringRules(rules: JsonObject, value: string, at: string): void {
    const chars = [...value].length;
    const bytes = Buffer.byteLength(value, 'utf8');
    const check = (key: string, ok: (limit: number) => boolean, what: string): void => {
      const limit = asRuleNumber(rules[key]);
      if (limit !== undefined && !ok(limit)) this.fail(at, `${what} ${limit}, got ${JSON.stringify(value)}`);
    };
    check('min_len', (n) => chars >= n, 'must be at least this many characters:');
    check('max_len', (n) => chars <= n, 'must be at most this many characters:');
    check('len', (n) => chars === n, 'must be exactly this many characters:');
    check('min_bytes', (n) => bytes >= n, 'must be at least this many bytes:');
    check('max_bytes', (n) => bytes <= n, 'must be at most this many bytes:');
    if (typeof rules.prefix === 'string' && !value.startsWith(rules.prefix)) this.fail(at, `must start with '${rules.prefix}'`);
    if (typeof rules.suffix === 'string' && !value.endsWith(rules.suffix)) this.fail(at, `must end with '${rules.suffix}'`);
    if (typeof rules.contains === 'string' && !value.includes(rules.contains)) this.fail(at, `must contain '${rules.contains}'`);
    if (Array.isArray(rules.in) && !rules.in.includes(value)) this.fail(at, `'${value}' is not an allowed value`);
    if (typeof rules.pattern === 'string') {
      let pattern: RegExp | undefined;
      try {
        pattern = new RegExp(rules.pattern);
      } catch {
        pattern = undefined; // RE2 syntax JavaScript cannot compile: leave it to Envoy.
      }
      if (pattern !== undefined && !pattern.test(value)) this.fail(at, `must match ${rules.pattern}, got ${JSON.stringify(value)}`);
    }
    if (typeof rules.well_known_regex === 'string') {
      const strict = rules.strict !== false;
      const regex =
        rules.well_known_regex === 'HTTP_HEADER_NAME'
          ? strict ? HEADER_NAME_STRICT : HEADER_LOOSE
          : rules.well_known_regex === 'HTTP_HEADER_VALUE'
            ? strict ? HEADER_VALUE_STRICT : HEADER_LOOSE
            : undefined;
      if (regex !== undefined && !regex.test(value)) this.fail(at, `is not a valid ${rules.well_known_regex}: ${JSON.stringify(value)}`);
    }
  }

  private bounds(rules: unknown, minKey: string, maxKey: string, count: number, at: string, what: string): void {
    if (!isObject(rules)) return;
    const min = asRuleNumber(rules[minKey]);
    const max = asRuleNumber(rules[maxKey]);
    if (min !== undefined && count < min) this.fail(at, `needs at least ${min} ${what}, has ${count}`);
    if (max !== undefined && count > max) this.fail(at, `allows at most ${max} ${what}, has ${count}`);
  }
}

function defaultValue(field: protobuf.Field): unknown {
  if (field.resolvedType instanceof protobuf.Enum) return Object.keys(field.resolvedType.values)[0];
  switch (field.type) {
    case 'string':
    case 'bytes':
      return '';
    case 'bool':
      return false;
    default:
      return 0;
  }
}

/**
 * Strictly converts proto3 JSON into a protobufjs-ready object for `typeName`.
 * Throws ProtoJsonError listing every problem found (not just the first).
 */
export function convertProtoJson(
  root: protobuf.Root,
  typeName: string,
  json: unknown,
): { readonly object: JsonObject; readonly anyTypes: ReadonlySet<string> } {
  const walker = new Walker(root);
  const converted = walker.message(root.lookupType(typeName), json, '');
  if (walker.problems.length > 0) throw new ProtoJsonError(walker.problems);
  if (!isObject(converted)) throw new ProtoJsonError([`(root): ${typeName} did not convert to an object`]);
  return { object: converted, anyTypes: walker.anyTypes };
}

/** Replaces every packed Any in a toObject() tree by its decoded message, tagged with '@type'. */
function unpackAnys(root: protobuf.Root, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => unpackAnys(root, v));
  if (!isObject(value)) return value;
  if (typeof value.type_url === 'string' && value.value instanceof Uint8Array) {
    const typeName = value.type_url.slice(value.type_url.lastIndexOf('/') + 1);
    const type = root.lookupType(typeName);
    const inner = type.toObject(type.decode(value.value), { enums: String, longs: String });
    return { '@type': typeName, ...(unpackAnys(root, inner) as JsonObject) };
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unpackAnys(root, v)]));
}

/**
 * YAML/JSON → the real protobuf message of `typeName`: strict conversion, then fromObject, verify,
 * encode and decode (so what we assert on is exactly what the wire format can carry).
 */
export function decodeProtoJson(root: protobuf.Root, typeName: string, json: unknown): Decoded {
  const type = root.lookupType(typeName);
  const { object, anyTypes } = convertProtoJson(root, typeName, json);
  const built = type.fromObject(object);
  const problem = type.verify(built);
  if (problem !== null) throw new ProtoJsonError([`(root): protobufjs verify: ${problem}`]);
  const message = type.decode(type.encode(built).finish());
  const tree = unpackAnys(root, type.toObject(message, { enums: String, longs: String }));
  if (!isObject(tree)) throw new ProtoJsonError([`(root): ${typeName} decoded to ${describe(tree)}`]);
  return { message, tree, anyTypes };
}
