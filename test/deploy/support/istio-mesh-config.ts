/**
 * A small checker for Istio's MeshConfig.ExtensionProvider with an envoyExtAuthzGrpc provider
 * (istio/api mesh/v1alpha1/config.proto, as summarized in spec/envoy-ext-authz.md §5). No typed
 * model covers meshConfig (the IstioOperator schema in @kubernetes-models/istio stops at metadata),
 * so this mirrors the proto: known fields only, each with its JSON type.
 */
import { describe as describeValue, isObject, type JsonObject } from './json';

type FieldCheck = (value: unknown) => string | undefined;

const isString: FieldCheck = (v) => (typeof v === 'string' && v !== '' ? undefined : 'a non-empty string');
const isBool: FieldCheck = (v) => (typeof v === 'boolean' ? undefined : 'true or false');
const isPort: FieldCheck = (v) => (Number.isInteger(v) && Number(v) > 0 && Number(v) < 65536 ? undefined : 'a port number');
const isUint32: FieldCheck = (v) => (Number.isInteger(v) && Number(v) > 0 && Number(v) <= 0xffffffff ? undefined : 'a positive uint32');
const isDuration: FieldCheck = (v) => (typeof v === 'string' && /^\d+(\.\d{1,9})?s$/.test(v) ? undefined : 'a Duration like "0.5s"');
// status_on_error is a string holding an HTTP status code ("403" by default).
const isStatus: FieldCheck = (v) => (typeof v === 'string' && /^[1-5]\d\d$/.test(v) ? undefined : 'an HTTP status as a string, e.g. "503"');

const REQUEST_BODY: Readonly<Record<string, FieldCheck>> = {
  maxRequestBytes: isUint32,
  allowPartialMessage: isBool,
  packAsBytes: isBool,
};

const GRPC_PROVIDER: Readonly<Record<string, FieldCheck>> = {
  service: isString,
  port: isPort,
  timeout: isDuration,
  failOpen: isBool,
  statusOnError: isStatus,
  includeRequestBodyInCheck: (v) => (isObject(v) ? undefined : 'an object'),
};

function checkFields(value: unknown, fields: Readonly<Record<string, FieldCheck>>, at: string, problems: string[]): void {
  if (!isObject(value)) {
    problems.push(`${at}: expected an object, got ${describeValue(value)}`);
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    const check = fields[key];
    if (check === undefined) {
      problems.push(`${at}.${key}: unknown field (known: ${Object.keys(fields).join(', ')})`);
      continue;
    }
    const expected = check(child);
    if (expected !== undefined) problems.push(`${at}.${key}: expected ${expected}, got ${describeValue(child)}`);
  }
}

/** Problems with one `extensionProviders` entry that uses envoyExtAuthzGrpc. */
export function extAuthzGrpcProviderProblems(provider: unknown, at = 'provider'): string[] {
  const problems: string[] = [];
  checkFields(provider, { name: isString, envoyExtAuthzGrpc: (v) => (isObject(v) ? undefined : 'an object') }, at, problems);
  if (!isObject(provider) || !isObject(provider.envoyExtAuthzGrpc)) {
    if (problems.length === 0) problems.push(`${at}: envoyExtAuthzGrpc is missing`);
    return problems;
  }
  const grpc: JsonObject = provider.envoyExtAuthzGrpc;
  checkFields(grpc, GRPC_PROVIDER, `${at}.envoyExtAuthzGrpc`, problems);
  for (const required of ['service', 'port']) {
    if (grpc[required] === undefined) problems.push(`${at}.envoyExtAuthzGrpc.${required}: required`);
  }
  if (grpc.includeRequestBodyInCheck !== undefined) {
    checkFields(grpc.includeRequestBodyInCheck, REQUEST_BODY, `${at}.envoyExtAuthzGrpc.includeRequestBodyInCheck`, problems);
  }
  return problems;
}
