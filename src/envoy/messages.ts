/**
 * Hand-written shapes of the ext_authz v3 messages, as @grpc/proto-loader decodes and encodes them
 * with the options in `protos.ts` (keepCase, longs as String, enums as String, oneofs, no defaults).
 * Only the fields Tollgate reads or writes; every field is optional because Envoy omits unset ones.
 * Field names and numbers: spec/envoy-ext-authz.md §2–3.
 */
import type { Json } from '../domain/entities';

/** google.protobuf.Struct in proto-loader's wire shape. protobufjs bundles struct.proto with
 *  camelCase field names, so `keepCase` does not apply here: it is `stringValue`, not `string_value`. */
export interface Struct {
  fields?: Record<string, StructValue>;
}

export interface StructValue {
  nullValue?: 'NULL_VALUE' | 0;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: Struct;
  listValue?: { values?: StructValue[] };
  /** The oneof discriminator proto-loader adds on decode (`oneofs: true`). */
  kind?: 'nullValue' | 'numberValue' | 'stringValue' | 'boolValue' | 'structValue' | 'listValue';
}

// ---------------------------------------------------------------- CheckRequest

export interface SocketAddress {
  address?: string;
  port_value?: number;
}

export interface Peer {
  /** config.core.v3.Address; its oneof is also named `address`, so a decoded message carries
   *  `address: 'socket_address'` next to `socket_address`. */
  address?: { socket_address?: SocketAddress; address?: string };
  service?: string;
  principal?: string;
  labels?: Record<string, string>;
}

/** config.core.v3.HeaderValue. With `encode_raw_headers: true` Envoy fills `raw_value`, not `value`. */
export interface HeaderValue {
  key?: string;
  value?: string;
  raw_value?: Buffer;
}

export interface HttpRequest {
  id?: string;
  method?: string;
  /** Lower-cased, duplicates comma-merged; absent when `encode_raw_headers: true`. */
  headers?: Record<string, string>;
  /** Used instead of `headers` when `encode_raw_headers: true`: one entry per header line. */
  header_map?: { headers?: HeaderValue[] };
  /** Request target including the query string, not decoded. */
  path?: string;
  host?: string;
  scheme?: string;
  /** int64 as a decimal string (`longs: String`); "-1" when unknown. */
  size?: string;
  protocol?: string;
  /** Buffered body as UTF-8 (`with_request_body`). */
  body?: string;
  /** Buffered body as bytes (`with_request_body.pack_as_bytes: true`; then `body` is empty). */
  raw_body?: Buffer;
}

export interface AttributeContext {
  source?: Peer;
  destination?: Peer;
  request?: { http?: HttpRequest };
  context_extensions?: Record<string, string>;
  metadata_context?: { filter_metadata?: Record<string, Struct> };
}

export interface CheckRequest {
  attributes?: AttributeContext;
}

// --------------------------------------------------------------- CheckResponse

/** config.core.v3.HeaderValueOption.HeaderAppendAction. Always set it: the proto3 default (0) appends. */
export type HeaderAppendAction =
  | 'APPEND_IF_EXISTS_OR_ADD'
  | 'ADD_IF_ABSENT'
  | 'OVERWRITE_IF_EXISTS_OR_ADD'
  | 'OVERWRITE_IF_EXISTS';

export interface HeaderValueOption {
  header?: HeaderValue;
  append_action?: HeaderAppendAction;
  keep_empty_value?: boolean;
}

export interface OkHttpResponse {
  /** Read-only: an answer may share the list with every other answer for the same identity. */
  headers?: readonly HeaderValueOption[];
  /** Read-only for the same reason: the usual allow sends a list shared by many answers. */
  headers_to_remove?: readonly string[];
  response_headers_to_add?: HeaderValueOption[];
  query_parameters_to_remove?: string[];
}

/** type.v3.HttpStatus. Encoding accepts the enum number (= the HTTP status) or its name
 *  ('Unauthorized'); decoding (`enums: String`) yields the name. */
export interface HttpStatus {
  code?: number | string;
}

export interface DeniedHttpResponse {
  status?: HttpStatus;
  headers?: readonly HeaderValueOption[];
  body?: string;
}

/** google.rpc.Status: 0 = OK (allow); anything else makes Envoy deny. */
export interface RpcStatus {
  code?: number;
  message?: string;
}

export interface CheckResponse {
  status?: RpcStatus;
  ok_response?: OkHttpResponse;
  denied_response?: DeniedHttpResponse;
  /** Emitted by Envoy under the `envoy.filters.http.ext_authz` namespace (allow only, envoy#12671). */
  dynamic_metadata?: Struct;
  /** Set by proto-loader on decode (`oneofs: true`): which of ok/denied was sent. */
  http_response?: 'ok_response' | 'denied_response';
}

// ------------------------------------------------------------- Struct helpers

/** JSON → google.protobuf.Struct (wire shape). Non-finite numbers become null, as JSON has no NaN. */
export function toStruct(values: Readonly<Record<string, Json>>): Struct {
  const fields: Record<string, StructValue> = {};
  for (const key in values) if (Object.hasOwn(values, key)) defineOwn(fields, key, toStructValue(values[key] as Json));
  return { fields };
}

function toStructValue(value: Json): StructValue {
  if (value === null) return { nullValue: 'NULL_VALUE' };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') return Number.isFinite(value) ? { numberValue: value } : { nullValue: 'NULL_VALUE' };
  if (Array.isArray(value)) return { listValue: { values: value.map(toStructValue) } };
  return { structValue: toStruct(value) };
}

/** google.protobuf.Struct (decoded) → JSON, e.g. to read `metadata_context.filter_metadata`. */
export function fromStruct(struct: Struct | undefined): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(struct?.fields ?? {})) defineOwn(out, key, fromStructValue(value));
  return out;
}

function fromStructValue(value: StructValue): Json {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.numberValue !== undefined) return value.numberValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.structValue !== undefined) return fromStruct(value.structValue);
  if (value.listValue !== undefined) return (value.listValue.values ?? []).map(fromStructValue);
  return null;
}

/** Plain assignment would treat a `__proto__` key as the prototype; keys here come from the wire. */
function defineOwn<T>(target: Record<string, T>, key: string, value: T): void {
  // defineProperty is several times slower than assignment, and only `__proto__` needs it.
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
