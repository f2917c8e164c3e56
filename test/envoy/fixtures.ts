/**
 * Builders for the Envoy edge tests: CheckRequests as Envoy sends them, the settings slices the
 * edge reads, and RequestFacts / Decisions for the response mapping.
 */
import type { Denial } from '../../src/checks/types';
import type { Decision, Identity } from '../../src/domain/decision';
import type { RequestFacts } from '../../src/domain/request';
import type { AttributeSettings } from '../../src/envoy/attributes';
import type { CheckRequest, HttpRequest } from '../../src/envoy/messages';
import type { ResponseSettings } from '../../src/envoy/response';
import type { PassThroughEndpoint } from '../../src/config/pass-through-endpoints';

export type EdgeSettings = AttributeSettings & ResponseSettings;

export function edgeSettings(overrides: {
  basePath?: string;
  customKeyHeader?: string | null;
  userHeaderName?: string | null;
  customerHeaderMappings?: string[];
  dropJsonEndUserIds?: boolean;
  passThroughEndpoints?: PassThroughEndpoint[];
  forwardCredentials?: boolean;
} = {}): EdgeSettings {
  return {
    basePath: overrides.basePath ?? '',
    forwardCredentials: overrides.forwardCredentials ?? false,
    credentials: {
      customKeyHeader: overrides.customKeyHeader ?? null,
      userHeaderName: overrides.userHeaderName ?? null,
      customerHeaderMappings: overrides.customerHeaderMappings ?? [],
      dropJsonEndUserIds: overrides.dropJsonEndUserIds ?? false,
      passThroughEndpoints: overrides.passThroughEndpoints ?? [],
    },
  };
}

/** A CheckRequest with Envoy's default (merged `headers` map) encoding. */
export function aCheckRequest(http: HttpRequest = {}, sourceAddress = '10.1.2.3'): CheckRequest {
  const headers = { ':method': http.method ?? 'POST', ':path': http.path ?? '/chat/completions', ...http.headers };
  return {
    attributes: {
      source: { address: { socket_address: { address: sourceAddress, port_value: 50123 } } },
      request: { http: { id: 'req-1', method: 'POST', path: '/chat/completions', ...http, headers } },
    },
  };
}

/** The same request as Envoy sends it with `encode_raw_headers: true`: header_map with raw bytes. */
export function aRawHeaderCheckRequest(lines: Array<[string, string | Buffer]>, http: HttpRequest = {}): CheckRequest {
  return {
    attributes: {
      request: {
        http: {
          id: 'req-raw',
          method: 'POST',
          path: '/chat/completions',
          ...http,
          header_map: {
            headers: lines.map(([key, value]) => ({ key, raw_value: Buffer.isBuffer(value) ? value : Buffer.from(value) })),
          },
        },
      },
    },
  };
}

export function someFacts(overrides: Partial<RequestFacts> = {}): RequestFacts {
  return {
    requestId: 'req-1',
    method: 'POST',
    route: '/chat/completions',
    path: '/chat/completions',
    headers: {},
    body: null,
    bodyTruncated: false,
    bodyInvalid: false,
    bodyBytes: 0,
    credential: { kind: 'none' },
    model: null,
    endUserId: null,
    sourceAddress: null,
    filterMetadata: {},
    ...overrides,
  };
}

export function anAllow(identity: Identity = {}, credentialHeader: string | null = null): Decision {
  return { kind: 'allow', identity, credentialHeader };
}

export function aDeny(denial: Partial<Denial> = {}, identity: Identity = {}): Decision {
  return {
    kind: 'deny',
    denial: { status: 401, type: 'auth_error', message: 'Authentication Error', param: null, ...denial },
    identity,
    credentialHeader: null,
  };
}

/**
 * Every identity header Tollgate owns, in the order it sends them. Spelled out rather than imported
 * so that a name dropped from src/envoy/identity-answer.ts fails the tests instead of following them.
 */
export const IDENTITY_HEADER_NAMES: readonly string[] = [
  'x-tollgate-key-hash',
  'x-tollgate-key-alias',
  'x-tollgate-user-id',
  'x-tollgate-team-id',
  'x-tollgate-org-id',
  'x-tollgate-project-id',
  'x-tollgate-end-user-id',
  'x-tollgate-user-role',
  'x-tollgate-model',
];

/** What an allow that sends the `sent` identity headers removes of the others: all of them. */
export function identityHeadersBut(...sent: string[]): string[] {
  return IDENTITY_HEADER_NAMES.filter((name) => !sent.includes(name));
}
