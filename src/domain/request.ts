/**
 * What Tollgate knows about one HTTP request, independent of how Envoy encoded it.
 * Built once by `envoy/attributes.ts`; read by identity and the checks.
 */
import type { Json, JsonObject } from './entities';

export type Credential =
  | { readonly kind: 'none' }
  /** A credential header was present but unusable (e.g. `Authorization` without a Bearer/Basic prefix). */
  | { readonly kind: 'malformed'; readonly header: string }
  | { readonly kind: 'present'; readonly value: string; readonly header: string }
  /**
   * A WebSocket handshake without a key LiteLLM's WebSocket auth takes: refused with 403 and this
   * message before any other step (envoy/websocket.ts). `header` is the one that was unusable.
   */
  | { readonly kind: 'refused'; readonly message: string; readonly header: string | null };

export interface RequestFacts {
  /** Envoy's x-request-id (may be empty). */
  readonly requestId: string;
  readonly method: string;
  /** Path without query string and without the configured base path: LiteLLM's "route". */
  readonly route: string;
  /** Raw path as Envoy saw it, query included. */
  readonly path: string;
  /** Lower-cased header names; pseudo-headers (`:path`, `:authority`, …) included. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Parsed JSON body when it is a JSON object; for a body Envoy cut short, the members whole in
   * its prefix, the prompt left out (`bodyTruncated` says so); `null` when absent or not JSON.
   */
  readonly body: Readonly<Record<string, Json>> | null;
  /**
   * The body as sent, when `body` also holds the query's and path's parameters (LiteLLM's
   * `populate_request_with_path_params`, seen by its auth checks only): what spend is logged with.
   */
  readonly sentBody?: Readonly<Record<string, Json>> | null;
  /** True when Envoy sent only a prefix of the body (`x-envoy-auth-partial-body: true`). */
  readonly bodyTruncated: boolean;
  /** The body was present but could not be parsed as a JSON object. */
  readonly bodyInvalid: boolean;
  /**
   * Why the body is a multipart form Starlette refuses to read (too many fields or files, a part
   * without a name): Starlette's message. Absent otherwise.
   */
  readonly unreadableForm?: string;
  /** Bytes of body Envoy forwarded: the whole body, or only a prefix when `bodyTruncated`. */
  readonly bodyBytes: number;
  readonly credential: Credential;
  /**
   * What LiteLLM's JWT test reads when it differs from `credential`: on a mapped pass-through the
   * `litellm_user_api_key` header names the key only after that test (auth/jwt/recognize.ts).
   */
  readonly jwtCredential?: Credential;
  /**
   * A WebSocket handshake on a route LiteLLM serves as one (Realtime, Vertex AI Live): its key,
   * body and refusals follow LiteLLM's WebSocket auth (envoy/websocket.ts). Absent otherwise.
   */
  readonly webSocket?: boolean;
  /**
   * Requested model(s) per LiteLLM's get_model_from_request; null when the request names none;
   * UNREAD_MODEL when it may name one Tollgate could not read.
   */
  readonly model: string | readonly string[] | null;
  /**
   * `general_settings.completion_model` on the routes whose handler LiteLLM serves it on, in place
   * of the body's, the path's and the query's model (routes/handler-model.ts). Absent otherwise.
   */
  readonly completionModel?: string;
  /**
   * Set where `completionModel` stands alone for a request naming no model itself: LiteLLM's auth
   * reads none (`request_data.get("model")` is None), so a check that lets a named model through
   * what it would refuse without one (free models skip the budgets) must not take it as named.
   */
  readonly namesNoModel?: true;
  /** End-user (customer) id per LiteLLM's get_end_user_id_from_request_body; headers beat body. */
  readonly endUserId: string | null;
  /** Downstream peer address (the client as Envoy saw it). */
  readonly sourceAddress: string | null;
  /**
   * `metadata_context.filter_metadata` by namespace: what earlier Envoy filters (e.g. jwt_authn
   * with `payload_in_metadata`) recorded. Written by Envoy, never by the client.
   */
  readonly filterMetadata: Readonly<Record<string, JsonObject>>;
  /**
   * The body is whole and not JSON, and LiteLLM answers such a request 400 once the caller has
   * passed every check (checks/invalid-json-body.ts): the message. Absent otherwise.
   */
  readonly invalidJson?: string;
}

/**
 * The model of an LLM API request whose JSON body Tollgate could not read to its model: Envoy
 * forwarded only a prefix without it (`allow_partial_message`; SDKs that write `messages` before
 * `model` do that for every prompt over the limit), or the body is not valid JSON. Null there would
 * skip every model check, and the upstream reads the whole body. As a name no allowlist holds, it
 * passes only a caller that may call every model, and a refusal says why.
 */
export const UNREAD_MODEL = '(model unread: request body cut short by Envoy or not valid JSON)';

/**
 * The requested model(s) as one label, comma-joined (identity header, metadata, logs); null when
 * none, and for UNREAD_MODEL, which is no model to pass upstream or to price.
 */
export function modelLabel(model: RequestFacts['model']): string | null {
  if (model === null || model === UNREAD_MODEL) return null;
  return typeof model === 'string' ? model : model.join(',');
}
