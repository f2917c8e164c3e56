/**
 * CheckRequest bytes → the `messages.ts` shapes, reading only the fields Tollgate declares and
 * skipping the rest (peer certificates, TLS session, route metadata, timestamps, …).
 *
 * protobufjs decodes every field into message instances and then converts them again into plain
 * objects (`toObject`); on a ~1.3 kB request with a buffered body that was several microseconds of
 * each Check. The result here is what proto-loader produces with `protos.ts`'s options for the
 * same fields — strings and maps as given, int64 as a decimal string, enums by name, oneof
 * discriminators — which test/envoy/check-request-decoder.test.ts checks against proto-loader on
 * generated requests. A message field that occurs twice is replaced, map entries accumulate (as in
 * protobufjs). Malformed input throws, as protobufjs does; grpc-js then fails the call.
 */
import type {
  AttributeContext,
  CheckRequest,
  HeaderValue,
  HttpRequest,
  Peer,
  SocketAddress,
  Struct,
  StructValue,
} from './messages';
import { newHeaderRecord } from './headers';

/** Field numbers (envoy/service/auth/v3/attribute_context.proto and its imports). */
export const REQUEST_FIELD = {
  CheckRequest: { attributes: 1 },
  AttributeContext: { source: 1, destination: 2, request: 4, context_extensions: 10, metadata_context: 11 },
  Peer: { address: 1, service: 2, labels: 3, principal: 4 },
  Address: { socket_address: 1 },
  SocketAddress: { address: 2, port_value: 3 },
  Request: { http: 2 },
  HttpRequest: {
    id: 1,
    method: 2,
    headers: 3,
    path: 4,
    host: 5,
    scheme: 6,
    size: 9,
    protocol: 10,
    body: 11,
    raw_body: 12,
    header_map: 13,
  },
  HeaderMap: { headers: 1 },
  HeaderValue: { key: 1, value: 2, raw_value: 3 },
  Metadata: { filter_metadata: 1 },
  MapEntry: { key: 1, value: 2 },
  Struct: { fields: 1 },
  Value: { nullValue: 1, numberValue: 2, stringValue: 3, boolValue: 4, structValue: 5, listValue: 6 },
  ListValue: { values: 1 },
} as const;

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const FIXED32 = 5;

/**
 * Messages nested deeper than this are refused, as protobufjs and protoc refuse them (their
 * default recursion limit): only forwarded metadata (Struct in Value in Struct …) can nest, and
 * the decoder recurses per level.
 */
export const RECURSION_LIMIT = 100;

export class ProtobufDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtobufDecodeError';
  }
}

/**
 * Buffer's own UTF-8 slice (what `toString('utf8', …)` ends in, and what protobufjs calls): the
 * `toString` wrapper's encoding dispatch cost as much as the decoding of a short header string.
 * Invalid sequences become U+FFFD, as with `toString`.
 */
const utf8Slice: (this: Buffer, start: number, end: number) => string =
  (Buffer.prototype as Buffer & { utf8Slice?: (start: number, end: number) => string }).utf8Slice ??
  function (this: Buffer, start: number, end: number): string {
    return this.toString('utf8', start, end);
  };

/**
 * Recently decoded map keys by their bytes: a fixed number of slots picked by a cheap hash, each
 * holding one key's bytes and text, so memory stays bounded whatever names clients send. A slot
 * is reused only on an exact byte match, so the text is always what decoding those bytes gives.
 */
class MapKeyCache {
  private static readonly SLOTS = 256;
  private static readonly MAX_LENGTH = 64;
  private readonly keyBytes: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(MapKeyCache.SLOTS);
  private readonly keyText: string[] = new Array<string>(MapKeyCache.SLOTS).fill('');

  text(buf: Buffer, start: number, length: number): string {
    if (length === 0) return '';
    if (length > MapKeyCache.MAX_LENGTH) return utf8Slice.call(buf, start, start + length);
    const last = start + length - 1;
    const slot = (length * 31 + (buf[start] as number) * 7 + (buf[last] as number) + (buf[start + (length >> 1)] as number) * 3) & (MapKeyCache.SLOTS - 1);
    const cached = this.keyBytes[slot];
    if (cached !== undefined && cached.length === length) {
      let same = true;
      for (let i = 0; i < length; i += 1) {
        if (cached[i] !== buf[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return this.keyText[slot] as string;
    }
    const text = utf8Slice.call(buf, start, start + length);
    this.keyBytes[slot] = Uint8Array.prototype.slice.call(buf, start, start + length);
    this.keyText[slot] = text;
    return text;
  }
}

const MAP_KEYS = new MapKeyCache();

/** A cursor over one message's bytes: `end` bounds the message being read. */
class Cursor {
  pos: number;

  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  more(): boolean {
    return this.pos < this.end;
  }

  /**
   * A varint that fits 32 bits (tags, lengths, uint32, enums); higher bits are dropped as protobufjs
   * does. Unrolled with shifts: `2 ** shift` with a variable shift is a call into C per byte.
   */
  uint32(): number {
    let byte = this.byte();
    let value = byte & 0x7f;
    if (byte < 0x80) return value;
    byte = this.byte();
    value |= (byte & 0x7f) << 7;
    if (byte < 0x80) return value;
    byte = this.byte();
    value |= (byte & 0x7f) << 14;
    if (byte < 0x80) return value;
    byte = this.byte();
    value |= (byte & 0x7f) << 21;
    if (byte < 0x80) return value;
    byte = this.byte();
    value = (value | ((byte & 0x0f) << 28)) >>> 0;
    if (byte < 0x80) return value;
    // Bytes 6–10 of a 64-bit varint carry only high bits.
    for (let i = 0; i < 5; i += 1) if (this.byte() < 0x80) return value;
    throw new ProtobufDecodeError('varint longer than 10 bytes');
  }

  /**
   * int64 as proto-loader renders it with `longs: String`. Up to seven bytes (49 bits, every size
   * Envoy reports) is exact in a double; longer ones, negatives included, go through BigInt.
   */
  int64String(): string {
    const start = this.pos;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 7; i += 1) {
      const byte = this.byte();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return String(value);
      scale *= 128;
    }
    this.pos = start;
    return this.wideInt64String();
  }

  private wideInt64String(): string {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const byte = this.byte();
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return BigInt.asIntN(64, value).toString();
    }
    throw new ProtobufDecodeError('varint longer than 10 bytes');
  }

  double(): number {
    this.need(8);
    const value = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return value;
  }

  string(): string {
    const start = this.pastPayload();
    return utf8Slice.call(this.buf, start, this.pos);
  }

  /**
   * A map key: the same few header names arrive on every Check, so the text decoded for the same
   * bytes last time is reused. That string is already a property name V8 knows, which spares both
   * the decoding and V8's string-table lookup when it becomes a key.
   */
  mapKey(): string {
    const start = this.pastPayload();
    return MAP_KEYS.text(this.buf, start, this.pos - start);
  }

  bytes(): Buffer {
    const start = this.pastPayload();
    return this.buf.subarray(start, this.pos);
  }

  /** Moves past a length-delimited payload (checked against the message's end); returns where it starts. */
  private pastPayload(): number {
    const length = this.uint32();
    const start = this.pos;
    this.need(length);
    this.pos += length;
    return start;
  }

  /** Enters a nested message read with this same cursor; returns where it ends. */
  enter(): number {
    const length = this.uint32();
    this.need(length);
    return this.pos + length;
  }

  /** Leaves a nested message entered with `enter`: its fields must have ended exactly there. */
  leave(end: number): void {
    if (this.pos !== end) throw new ProtobufDecodeError('nested message overruns its length');
  }

  sub(): Cursor {
    const start = this.pastPayload();
    return new Cursor(this.buf, start, this.pos);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case VARINT:
        this.uint32();
        return;
      case FIXED64:
        this.need(8);
        this.pos += 8;
        return;
      case LENGTH_DELIMITED:
        this.pastPayload();
        return;
      case START_GROUP: {
        // Iterative, bounded as nested messages are: nested groups must not exhaust the stack.
        let depth = 1;
        while (depth > 0) {
          const type = this.uint32() & 7;
          if (type === END_GROUP) depth -= 1;
          else if (type !== START_GROUP) this.skip(type);
          else if ((depth += 1) > RECURSION_LIMIT) throw new ProtobufDecodeError(`groups nested deeper than ${RECURSION_LIMIT} at offset ${this.pos}`);
        }
        return;
      }
      case FIXED32:
        this.need(4);
        this.pos += 4;
        return;
      default:
        throw new ProtobufDecodeError(`invalid wire type ${wireType} at offset ${this.pos}`);
    }
  }

  private byte(): number {
    if (this.pos >= this.end) throw new ProtobufDecodeError('message truncated');
    return this.buf[this.pos++] as number;
  }

  private need(bytes: number): void {
    if (this.pos + bytes > this.end) throw new ProtobufDecodeError('message truncated');
  }
}

/** Map keys come from the wire: `__proto__` must become a key, not a prototype. */
function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** A map<string, V> entry; a missing key or value is the type's default, as protobufjs reads it. */
function readEntry<V>(cursor: Cursor, readValue: (c: Cursor) => V, missing: V): [string, V] {
  const entry = cursor.sub();
  let key = '';
  let value = missing;
  while (entry.more()) {
    const tag = entry.uint32();
    const field = tag >>> 3;
    if (field === REQUEST_FIELD.MapEntry.key && (tag & 7) === LENGTH_DELIMITED) key = entry.string();
    else if (field === REQUEST_FIELD.MapEntry.value && (tag & 7) === LENGTH_DELIMITED) value = readValue(entry);
    else entry.skip(tag & 7);
  }
  return [key, value];
}

/** One map<string, string> entry added to `into` (headers: the hottest loop of the decoder). */
function readStringMap(cursor: Cursor, into: Record<string, string> | undefined): Record<string, string> {
  const map = into ?? {};
  const end = cursor.enter();
  let key = '';
  let value = '';
  while (cursor.pos < end) {
    const tag = cursor.uint32();
    if (tag === ((REQUEST_FIELD.MapEntry.key << 3) | LENGTH_DELIMITED)) key = cursor.mapKey();
    else if (tag === ((REQUEST_FIELD.MapEntry.value << 3) | LENGTH_DELIMITED)) value = cursor.string();
    else cursor.skip(tag & 7);
  }
  cursor.leave(end);
  setOwn(map, key, value);
  return map;
}

function readSocketAddress(cursor: Cursor): SocketAddress & { port_specifier?: 'port_value' } {
  const out: SocketAddress & { port_specifier?: 'port_value' } = {};
  while (cursor.more()) {
    const tag = cursor.uint32();
    switch (tag >>> 3) {
      case REQUEST_FIELD.SocketAddress.address:
        out.address = cursor.string();
        break;
      case REQUEST_FIELD.SocketAddress.port_value:
        out.port_value = cursor.uint32();
        out.port_specifier = 'port_value';
        break;
      default:
        cursor.skip(tag & 7);
    }
  }
  return out;
}

function readPeer(cursor: Cursor): Peer {
  const out: Peer = {};
  while (cursor.more()) {
    const tag = cursor.uint32();
    switch (tag >>> 3) {
      case REQUEST_FIELD.Peer.address: {
        const address = cursor.sub();
        const socket: Peer['address'] = {};
        while (address.more()) {
          const inner = address.uint32();
          if (inner >>> 3 === REQUEST_FIELD.Address.socket_address) {
            socket.socket_address = readSocketAddress(address.sub());
            socket.address = 'socket_address';
          } else {
            address.skip(inner & 7);
          }
        }
        out.address = socket;
        break;
      }
      case REQUEST_FIELD.Peer.service:
        out.service = cursor.string();
        break;
      case REQUEST_FIELD.Peer.labels:
        out.labels = readStringMap(cursor, out.labels);
        break;
      case REQUEST_FIELD.Peer.principal:
        out.principal = cursor.string();
        break;
      default:
        cursor.skip(tag & 7);
    }
  }
  return out;
}

function readHeaderValue(cursor: Cursor): HeaderValue {
  const out: HeaderValue = {};
  while (cursor.more()) {
    const tag = cursor.uint32();
    switch (tag >>> 3) {
      case REQUEST_FIELD.HeaderValue.key:
        out.key = cursor.string();
        break;
      case REQUEST_FIELD.HeaderValue.value:
        out.value = cursor.string();
        break;
      case REQUEST_FIELD.HeaderValue.raw_value:
        out.raw_value = cursor.bytes();
        break;
      default:
        cursor.skip(tag & 7);
    }
  }
  return out;
}

function readHttp(cursor: Cursor): HttpRequest {
  const out: HttpRequest = {};
  const F = REQUEST_FIELD.HttpRequest;
  while (cursor.more()) {
    const tag = cursor.uint32();
    switch (tag >>> 3) {
      case F.id:
        out.id = cursor.string();
        break;
      case F.method:
        out.method = cursor.string();
        break;
      case F.headers:
        out.headers = readStringMap(cursor, out.headers ?? newHeaderRecord());
        break;
      case F.path:
        out.path = cursor.string();
        break;
      case F.host:
        out.host = cursor.string();
        break;
      case F.scheme:
        out.scheme = cursor.string();
        break;
      case F.size:
        out.size = cursor.int64String();
        break;
      case F.protocol:
        out.protocol = cursor.string();
        break;
      case F.body:
        out.body = cursor.string();
        break;
      case F.raw_body:
        out.raw_body = cursor.bytes();
        break;
      case F.header_map: {
        const map = cursor.sub();
        const headers: HeaderValue[] = [];
        while (map.more()) {
          const inner = map.uint32();
          if (inner >>> 3 === REQUEST_FIELD.HeaderMap.headers) headers.push(readHeaderValue(map.sub()));
          else map.skip(inner & 7);
        }
        // proto-loader (defaults off) leaves an empty repeated field out.
        out.header_map = headers.length > 0 ? { headers } : {};
        break;
      }
      default:
        cursor.skip(tag & 7);
    }
  }
  return out;
}

/** `depth`: how deep this message is nested in the CheckRequest (which is 0). */
function readValue(cursor: Cursor, depth: number): StructValue {
  if (depth > RECURSION_LIMIT) throw new ProtobufDecodeError('maximum nesting depth exceeded');
  let out: StructValue = {};
  while (cursor.more()) {
    const tag = cursor.uint32();
    const V = REQUEST_FIELD.Value;
    // A oneof: the last member on the wire wins, as in protobufjs.
    switch (tag >>> 3) {
      case V.nullValue:
        cursor.uint32();
        out = { nullValue: 'NULL_VALUE', kind: 'nullValue' };
        break;
      case V.numberValue:
        out = { numberValue: cursor.double(), kind: 'numberValue' };
        break;
      case V.stringValue:
        out = { stringValue: cursor.string(), kind: 'stringValue' };
        break;
      case V.boolValue:
        out = { boolValue: cursor.uint32() !== 0, kind: 'boolValue' };
        break;
      case V.structValue:
        out = { structValue: readStruct(cursor.sub(), depth + 1), kind: 'structValue' };
        break;
      case V.listValue: {
        const list = cursor.sub();
        const values: StructValue[] = [];
        while (list.more()) {
          const inner = list.uint32();
          // The ListValue is one level below this Value, its values two.
          if (inner >>> 3 === REQUEST_FIELD.ListValue.values) values.push(readValue(list.sub(), depth + 2));
          else list.skip(inner & 7);
        }
        out = { listValue: values.length > 0 ? { values } : {}, kind: 'listValue' };
        break;
      }
      default:
        cursor.skip(tag & 7);
    }
  }
  return out;
}

function readStruct(cursor: Cursor, depth: number): Struct {
  if (depth > RECURSION_LIMIT) throw new ProtobufDecodeError('maximum nesting depth exceeded');
  let fields: Record<string, StructValue> | undefined;
  while (cursor.more()) {
    const tag = cursor.uint32();
    if (tag >>> 3 === REQUEST_FIELD.Struct.fields) {
      const [key, value] = readEntry(cursor, (c) => readValue(c.sub(), depth + 1), {});
      fields ??= {};
      setOwn(fields, key, value);
    } else {
      cursor.skip(tag & 7);
    }
  }
  return fields === undefined ? {} : { fields };
}

function readAttributes(cursor: Cursor): AttributeContext {
  const out: AttributeContext = {};
  const F = REQUEST_FIELD.AttributeContext;
  while (cursor.more()) {
    const tag = cursor.uint32();
    switch (tag >>> 3) {
      case F.source:
        out.source = readPeer(cursor.sub());
        break;
      case F.destination:
        out.destination = readPeer(cursor.sub());
        break;
      case F.request: {
        const request = cursor.sub();
        const read: NonNullable<AttributeContext['request']> = {};
        while (request.more()) {
          const inner = request.uint32();
          if (inner >>> 3 === REQUEST_FIELD.Request.http) read.http = readHttp(request.sub());
          else request.skip(inner & 7);
        }
        out.request = read;
        break;
      }
      case F.context_extensions:
        out.context_extensions = readStringMap(cursor, out.context_extensions);
        break;
      case F.metadata_context: {
        const metadata = cursor.sub();
        const read: NonNullable<AttributeContext['metadata_context']> = {};
        while (metadata.more()) {
          const inner = metadata.uint32();
          if (inner >>> 3 === REQUEST_FIELD.Metadata.filter_metadata) {
            // CheckRequest 0 → AttributeContext 1 → Metadata 2 → Struct 3.
            const [namespace, struct] = readEntry(metadata, (c) => readStruct(c.sub(), 3), {});
            read.filter_metadata ??= {};
            setOwn(read.filter_metadata, namespace, struct);
          } else {
            metadata.skip(inner & 7);
          }
        }
        out.metadata_context = read;
        break;
      }
      default:
        cursor.skip(tag & 7);
    }
  }
  return out;
}

export function decodeCheckRequest(bytes: Buffer): CheckRequest {
  const cursor = new Cursor(bytes, 0, bytes.length);
  const out: CheckRequest = {};
  while (cursor.more()) {
    const tag = cursor.uint32();
    if (tag >>> 3 === REQUEST_FIELD.CheckRequest.attributes) out.attributes = readAttributes(cursor.sub());
    else cursor.skip(tag & 7);
  }
  return out;
}
