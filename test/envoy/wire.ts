/**
 * A minimal protobuf wire-format writer and reader, independent of protobufjs, so the tests can
 * build CheckRequest bytes from the field *numbers* in Envoy's .proto files and read back the
 * field numbers our CheckResponse puts on the wire — what Envoy itself sees.
 */

const VARINT = 0;
const LENGTH_DELIMITED = 2;

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

function tag(fieldNumber: number, wireType: number): Buffer {
  return varint(fieldNumber * 8 + wireType);
}

/** A length-delimited field: string, bytes or a nested message. */
export function bytesField(fieldNumber: number, value: string | Buffer): Buffer {
  const payload = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([tag(fieldNumber, LENGTH_DELIMITED), varint(payload.length), payload]);
}

export function message(fieldNumber: number, ...fields: Buffer[]): Buffer {
  return bytesField(fieldNumber, Buffer.concat(fields));
}

export function varintField(fieldNumber: number, value: number): Buffer {
  return Buffer.concat([tag(fieldNumber, VARINT), varint(value)]);
}

/** map<string,string> entries are repeated messages {key = 1, value = 2}. */
export function mapEntry(fieldNumber: number, key: string, value: string): Buffer {
  return message(fieldNumber, bytesField(1, key), bytesField(2, value));
}

export type WireValue = number | Buffer;

/** Field number → values in order (varints as numbers, length-delimited as raw bytes). */
export function readFields(bytes: Buffer): Map<number, WireValue[]> {
  const fields = new Map<number, WireValue[]>();
  let at = 0;
  const readVarint = (): number => {
    let result = 0;
    let scale = 1;
    for (;;) {
      const byte = bytes[at];
      at += 1;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
  };
  while (at < bytes.length) {
    const key = readVarint();
    const fieldNumber = Math.floor(key / 8);
    const wireType = key % 8;
    let value: WireValue;
    if (wireType === VARINT) value = readVarint();
    else if (wireType === LENGTH_DELIMITED) {
      const length = readVarint();
      value = bytes.subarray(at, at + length);
      at += length;
    } else throw new Error(`unexpected wire type ${wireType} for field ${fieldNumber}`);
    fields.set(fieldNumber, [...(fields.get(fieldNumber) ?? []), value]);
  }
  return fields;
}

export function only(fields: Map<number, WireValue[]>, fieldNumber: number): WireValue {
  const values = fields.get(fieldNumber) ?? [];
  if (values.length !== 1) throw new Error(`field ${fieldNumber}: expected one value, got ${values.length}`);
  return values[0];
}

export function sub(fields: Map<number, WireValue[]>, fieldNumber: number): Map<number, WireValue[]> {
  const value = only(fields, fieldNumber);
  if (typeof value === 'number') throw new Error(`field ${fieldNumber} is a varint, not a message`);
  return readFields(value);
}

export function text(fields: Map<number, WireValue[]>, fieldNumber: number): string {
  const value = only(fields, fieldNumber);
  if (typeof value === 'number') throw new Error(`field ${fieldNumber} is a varint, not a string`);
  return value.toString('utf8');
}
