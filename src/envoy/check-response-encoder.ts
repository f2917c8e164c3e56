/**
 * CheckResponse → protobuf bytes without protobufjs's `fromObject` conversion and op-list writer.
 *
 * Encoding the answer was the largest single cost Tollgate added to a warm Check (a response ~4×
 * the size of a bare allow, converted field by field, then copied op by op). This encoder walks
 * the shapes in `messages.ts` once, writing back to front into one buffer.
 *
 * It covers exactly what `response.ts` produces. Anything else (a field it does not know, an enum
 * given by name, a negative code) returns null and the caller uses the generic encoder, so an
 * unusual response is never mis-encoded, only encoded more slowly. Field numbers are those of
 * envoy/service/auth/v3/external_auth.proto and its imports; test/envoy/check-response-encoder.test.ts
 * reads them back from the loaded protos and compares every byte with protobufjs's own encoding.
 */
import type { CheckResponse, HeaderValueOption, Struct, StructValue } from './messages';
import { ownedCopy } from '../util/owned-bytes';

/** Wire types (protobuf encoding spec). */
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;

/** Strings up to this length are tried as ASCII first (see ReverseWriter.copyAscii). */
const SHORT_STRING = 256;

/** Bigger than a typical allow (~0.6 kB); the writer grows into a new buffer for anything larger. */
const scratch = Buffer.allocUnsafe(4096);

export const FIELD = {
  CheckResponse: { status: 1, denied_response: 2, ok_response: 3, dynamic_metadata: 4 },
  Status: { code: 1, message: 2 },
  DeniedHttpResponse: { status: 1, headers: 2, body: 3 },
  HttpStatus: { code: 1 },
  OkHttpResponse: { headers: 2, headers_to_remove: 5, query_parameters_to_remove: 8 },
  HeaderValueOption: { header: 1, append_action: 3, keep_empty_value: 4 },
  HeaderValue: { key: 1, value: 2, raw_value: 3 },
  Struct: { fields: 1 },
  FieldsEntry: { key: 1, value: 2 },
  Value: { nullValue: 1, numberValue: 2, stringValue: 3, boolValue: 4, structValue: 5, listValue: 6 },
  ListValue: { values: 1 },
} as const;

export const APPEND_ACTIONS: Readonly<Record<string, number>> = {
  APPEND_IF_EXISTS_OR_ADD: 0,
  ADD_IF_ABSENT: 1,
  OVERWRITE_IF_EXISTS_OR_ADD: 2,
  OVERWRITE_IF_EXISTS: 3,
};

const KNOWN_KEYS = {
  response: new Set(['status', 'denied_response', 'ok_response', 'dynamic_metadata']),
  status: new Set(['code', 'message']),
  denied: new Set(['status', 'headers', 'body']),
  ok: new Set(['headers', 'headers_to_remove', 'query_parameters_to_remove']),
  option: new Set(['header', 'append_action', 'keep_empty_value']),
  header: new Set(['key', 'value', 'raw_value']),
};

/** Thrown inside the encoder for a shape it does not cover; never escapes `encodeCheckResponse`. */
class Unsupported extends Error {}

function only(value: object, known: ReadonlySet<string>): void {
  for (const key in value) {
    if (!known.has(key) && (value as Record<string, unknown>)[key] !== undefined) throw new Unsupported(key);
  }
}

function nonNegativeInt(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0x7fffffff) throw new Unsupported('int');
  return value;
}

/**
 * Writes a message back to front, so every length is known when its prefix is written and no
 * size pass is needed: children first, then their length, then their tag. Fields therefore go
 * in descending order, and repeated fields from their last element to their first.
 */
class ReverseWriter {
  private buffer: Buffer;
  private pos: number;

  /** Writes into `scratch` (shared: encoding is synchronous and `finish` copies out). */
  constructor(scratch: Buffer) {
    this.buffer = scratch;
    this.pos = scratch.length;
  }

  /** Position marking the end of a message about to be written. */
  mark(): number {
    return this.buffer.length - this.pos;
  }

  /** Closes the message that started at `mark` as length-delimited field `field`. */
  close(field: number, mark: number): void {
    this.varint(this.buffer.length - this.pos - mark);
    this.tag(field, LENGTH_DELIMITED);
  }

  varint(value: number): void {
    const size = value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;
    this.reserve(size);
    let at = (this.pos -= size);
    let v = value;
    while (v > 0x7f) {
      this.buffer[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buffer[at] = v;
  }

  /** Field numbers here are < 16, so every tag is one byte. */
  tag(field: number, wireType: number): void {
    this.reserve(1);
    this.buffer[--this.pos] = (field << 3) | wireType;
  }

  uint(field: number, value: number): void {
    this.varint(value);
    this.tag(field, VARINT);
  }

  double(field: number, value: number): void {
    this.reserve(8);
    this.pos -= 8;
    this.buffer.writeDoubleLE(value, this.pos);
    this.tag(field, FIXED64);
  }

  string(field: number, value: string): void {
    const bytes = this.copyAscii(value) ?? this.copyUtf8(value);
    this.varint(bytes);
    this.tag(field, LENGTH_DELIMITED);
  }

  /**
   * Short ASCII text (header names, ids, hashes: nearly every string of an answer) copied code by
   * code, which is cheaper than the two native calls of the UTF-8 path. Null, with nothing
   * written, for anything else.
   */
  private copyAscii(value: string): number | null {
    const length = value.length;
    if (length > SHORT_STRING) return null;
    this.reserve(length);
    const start = this.pos - length;
    const buffer = this.buffer;
    for (let i = 0; i < length; i += 1) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) return null;
      buffer[start + i] = code;
    }
    this.pos = start;
    return length;
  }

  private copyUtf8(value: string): number {
    const bytes = Buffer.byteLength(value, 'utf8');
    this.reserve(bytes);
    this.pos -= bytes;
    this.buffer.write(value, this.pos, bytes, 'utf8');
    return bytes;
  }

  /** Bytes encoded earlier, written as they are. */
  bytes(encoded: Buffer): void {
    this.reserve(encoded.length);
    this.pos -= encoded.length;
    encoded.copy(this.buffer, this.pos);
  }

  /** What was written since `mark`, in memory of its own: it is kept as long as its identity is. */
  since(mark: number): Buffer {
    return ownedCopy(this.buffer.subarray(this.pos, this.buffer.length - mark));
  }

  /** The bytes written so far, in a buffer of their own. */
  finish(): Buffer {
    return Buffer.from(this.buffer.subarray(this.pos));
  }

  private reserve(bytes: number): void {
    if (this.pos >= bytes) return;
    const used = this.buffer.length - this.pos;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, used + bytes + 64));
    this.buffer.copy(grown, grown.length - used, this.pos);
    this.pos = grown.length - used;
    this.buffer = grown;
  }
}

function writeHeaderValue(out: ReverseWriter, header: NonNullable<HeaderValueOption['header']>): void {
  only(header, KNOWN_KEYS.header);
  if (header.raw_value !== undefined) throw new Unsupported('raw_value');
  if (header.value !== undefined) out.string(FIELD.HeaderValue.value, header.value);
  if (header.key !== undefined) out.string(FIELD.HeaderValue.key, header.key);
}

/**
 * Encoded bytes of frozen header lists and metadata fields. Answers share these for every Check
 * of the same identity (identity-answer.ts), so each is encoded once. Only what can never change
 * is remembered: a frozen list of frozen options, frozen fields of frozen scalar values. A
 * WeakMap, so the bytes go when the answer parts do.
 */
const encodedOnce = new WeakMap<object, { readonly field: number; readonly bytes: Buffer }>();

function writeOptions(out: ReverseWriter, field: number, options: readonly HeaderValueOption[] | undefined): void {
  if (options === undefined) return;
  const known = encodedOnce.get(options);
  if (known !== undefined && known.field === field) {
    out.bytes(known.bytes);
    return;
  }
  const mark = out.mark();
  writeEachOption(out, field, options);
  if (known === undefined && isFrozenOptionList(options)) encodedOnce.set(options, { field, bytes: out.since(mark) });
}

function isFrozenOptionList(options: readonly HeaderValueOption[]): boolean {
  if (!Object.isFrozen(options)) return false;
  for (const option of options) {
    if (!Object.isFrozen(option) || (option.header !== undefined && !Object.isFrozen(option.header))) return false;
  }
  return true;
}

function writeEachOption(out: ReverseWriter, field: number, options: readonly HeaderValueOption[]): void {
  for (let i = options.length - 1; i >= 0; i -= 1) {
    const option = options[i] as HeaderValueOption;
    only(option, KNOWN_KEYS.option);
    const mark = out.mark();
    if (option.keep_empty_value !== undefined) out.uint(FIELD.HeaderValueOption.keep_empty_value, option.keep_empty_value ? 1 : 0);
    if (option.append_action !== undefined) {
      const action = APPEND_ACTIONS[option.append_action];
      if (action === undefined) throw new Unsupported('append_action');
      out.uint(FIELD.HeaderValueOption.append_action, action);
    }
    if (option.header !== undefined) {
      const header = out.mark();
      writeHeaderValue(out, option.header);
      out.close(FIELD.HeaderValueOption.header, header);
    }
    out.close(field, mark);
  }
}

function writeStrings(out: ReverseWriter, field: number, values: readonly string[] | undefined): void {
  if (values === undefined) return;
  for (let i = values.length - 1; i >= 0; i -= 1) out.string(field, values[i] as string);
}

function writeStatus(out: ReverseWriter, status: NonNullable<CheckResponse['status']>): void {
  only(status, KNOWN_KEYS.status);
  if (status.message !== undefined) out.string(FIELD.Status.message, status.message);
  if (status.code !== undefined) out.uint(FIELD.Status.code, nonNegativeInt(status.code));
}

function writeDenied(out: ReverseWriter, denied: NonNullable<CheckResponse['denied_response']>): void {
  only(denied, KNOWN_KEYS.denied);
  if (denied.body !== undefined) out.string(FIELD.DeniedHttpResponse.body, denied.body);
  writeOptions(out, FIELD.DeniedHttpResponse.headers, denied.headers);
  if (denied.status !== undefined) {
    if (Object.keys(denied.status).some((key) => key !== 'code')) throw new Unsupported('HttpStatus field');
    const mark = out.mark();
    if (denied.status.code !== undefined) out.uint(FIELD.HttpStatus.code, nonNegativeInt(denied.status.code));
    out.close(FIELD.DeniedHttpResponse.status, mark);
  }
}

function writeOk(out: ReverseWriter, ok: NonNullable<CheckResponse['ok_response']>): void {
  only(ok, KNOWN_KEYS.ok);
  writeStrings(out, FIELD.OkHttpResponse.query_parameters_to_remove, ok.query_parameters_to_remove);
  writeStrings(out, FIELD.OkHttpResponse.headers_to_remove, ok.headers_to_remove);
  writeOptions(out, FIELD.OkHttpResponse.headers, ok.headers);
}

type ValueKind = 'nullValue' | 'numberValue' | 'stringValue' | 'boolValue' | 'structValue' | 'listValue';

const present = (field: unknown): number => (field === undefined ? 0 : 1);

/** Which oneof member a Value sets. Named reads: a loop over the names made every read megamorphic. */
function valueKind(value: StructValue): ValueKind {
  const kinds =
    present(value.nullValue) +
    present(value.numberValue) +
    present(value.stringValue) +
    present(value.boolValue) +
    present(value.structValue) +
    present(value.listValue);
  if (kinds === 0) throw new Unsupported('empty Value');
  if (kinds > 1) throw new Unsupported('two Value kinds');
  if (value.stringValue !== undefined) return 'stringValue';
  if (value.numberValue !== undefined) return 'numberValue';
  if (value.boolValue !== undefined) return 'boolValue';
  if (value.nullValue !== undefined) return 'nullValue';
  if (value.structValue !== undefined) return 'structValue';
  return 'listValue';
}

function writeValue(out: ReverseWriter, value: StructValue): void {
  const kind = valueKind(value);
  switch (kind) {
    case 'nullValue':
      out.uint(FIELD.Value.nullValue, 0);
      return;
    case 'numberValue':
      out.double(FIELD.Value.numberValue, value.numberValue as number);
      return;
    case 'stringValue':
      out.string(FIELD.Value.stringValue, value.stringValue as string);
      return;
    case 'boolValue':
      out.uint(FIELD.Value.boolValue, value.boolValue === true ? 1 : 0);
      return;
    case 'structValue': {
      const mark = out.mark();
      writeStruct(out, value.structValue as Struct);
      out.close(FIELD.Value.structValue, mark);
      return;
    }
    case 'listValue': {
      const mark = out.mark();
      const items = value.listValue?.values ?? [];
      for (let i = items.length - 1; i >= 0; i -= 1) {
        const item = out.mark();
        writeValue(out, items[i] as StructValue);
        out.close(FIELD.ListValue.values, item);
      }
      out.close(FIELD.Value.listValue, mark);
    }
  }
}

function writeStruct(out: ReverseWriter, struct: Struct): void {
  const fields = struct.fields;
  if (fields === undefined) return;
  const known = encodedOnce.get(fields);
  if (known !== undefined) {
    out.bytes(known.bytes);
    return;
  }
  const mark = out.mark();
  writeFields(out, fields);
  if (isFrozenScalarFields(fields)) encodedOnce.set(fields, { field: FIELD.Struct.fields, bytes: out.since(mark) });
}

/** Frozen fields whose values are frozen and hold no nested struct or list (which could still change). */
function isFrozenScalarFields(fields: Readonly<Record<string, StructValue>>): boolean {
  if (!Object.isFrozen(fields)) return false;
  for (const key in fields) {
    const value = fields[key] as StructValue;
    if (!Object.isFrozen(value) || value.structValue !== undefined || value.listValue !== undefined) return false;
  }
  return true;
}

function writeFields(out: ReverseWriter, fields: Readonly<Record<string, StructValue>>): void {
  const keys = Object.keys(fields);
  for (let i = keys.length - 1; i >= 0; i -= 1) {
    const key = keys[i] as string;
    const entry = out.mark();
    const value = out.mark();
    writeValue(out, fields[key] as StructValue);
    out.close(FIELD.FieldsEntry.value, value);
    out.string(FIELD.FieldsEntry.key, key);
    out.close(FIELD.Struct.fields, entry);
  }
}

/**
 * The wire bytes of `response`, or null when it holds something this encoder does not cover
 * (the caller then uses protobufjs). Sizes of nested messages are recomputed on the write pass:
 * cheaper here than keeping them, since the messages are a few levels deep and small.
 */
export function encodeCheckResponse(response: CheckResponse): Buffer | null {
  try {
    only(response, KNOWN_KEYS.response);
    const { status, ok_response: ok, denied_response: denied, dynamic_metadata: metadata } = response;
    if (ok !== undefined && denied !== undefined) return null; // a oneof: protobufjs decides which wins
    const out = new ReverseWriter(scratch);
    if (metadata !== undefined) {
      const mark = out.mark();
      writeStruct(out, metadata);
      out.close(FIELD.CheckResponse.dynamic_metadata, mark);
    }
    if (ok !== undefined) {
      const mark = out.mark();
      writeOk(out, ok);
      out.close(FIELD.CheckResponse.ok_response, mark);
    }
    if (denied !== undefined) {
      const mark = out.mark();
      writeDenied(out, denied);
      out.close(FIELD.CheckResponse.denied_response, mark);
    }
    if (status !== undefined) {
      const mark = out.mark();
      writeStatus(out, status);
      out.close(FIELD.CheckResponse.status, mark);
    }
    return out.finish();
  } catch (error) {
    if (error instanceof Unsupported) return null;
    throw error;
  }
}
