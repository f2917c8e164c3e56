/**
 * Small readers over a CheckContext that several checks share. Each mirrors how LiteLLM reads
 * the same value (`request_data`, `valid_token.team_model_aliases`, `abbreviate_api_key`, …).
 */
import type { Json, JsonObject } from '../domain/entities';
import type { CheckContext, Snapshot } from './types';
import { NO_MODEL_ALIASES } from './model-access';
import { distinct } from '../util/distinct';

/** LiteLLM's `request_data`: the parsed JSON body, `{}` when there is none. */
export function requestBody(ctx: CheckContext): Readonly<Record<string, Json>> {
  return ctx.request.body ?? {};
}

const NO_BODY: Readonly<Record<string, Json>> = Object.freeze({});

/**
 * The body for a check whose reading of it can grant access (an `organization_id` that makes the
 * caller its admin): empty when Envoy cut the body short. A field seen in the prefix may be
 * named again past the cut, and LiteLLM's parser keeps the last one; a check that refuses may
 * read the prefix (requestBody), one that grants must not.
 */
export function wholeRequestBody(ctx: CheckContext): Readonly<Record<string, Json>> {
  return ctx.request.bodyTruncated ? NO_BODY : requestBody(ctx);
}

/** The requested model(s) as a list; empty when the request names none (`_model` falsy). */
export function requestedModels(ctx: CheckContext): readonly string[] {
  const model = ctx.request.model;
  if (model === null) return [];
  return typeof model === 'string' ? (model === '' ? [] : [model]) : model;
}

/** `_model` as LiteLLM passes it on: a string, a list, or null when absent. */
export function requestedModel(ctx: CheckContext): string | readonly string[] | null {
  const models = requestedModels(ctx);
  if (models.length === 0) return null;
  return typeof ctx.request.model === 'string' ? ctx.request.model : models;
}

export function isJsonObject(value: Json | undefined): value is JsonObject {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value);
}

/**
 * `valid_token.team_model_aliases`: the key's team's model aliases. Only a virtual key carries
 * them (the combined view joins them); JWT identities have none.
 */
export function teamModelAliasesOfKey(snapshot: Snapshot): Readonly<Record<string, string>> {
  return snapshot.key !== null && snapshot.team !== null ? snapshot.team.model_aliases : NO_MODEL_ALIASES;
}

const NO_MODELS: readonly string[] = Object.freeze([]);

/** The models of the DB access groups named by `ids` that exist, first-seen order, no duplicates. */
export function accessGroupModels(snapshot: Snapshot, ids: readonly string[]): readonly string[] {
  // No group or one (the usual cases): nothing built, or the group's own frozen list unless it repeats a name.
  if (ids.length === 0) return NO_MODELS;
  if (ids.length === 1) return distinct(snapshot.accessGroups.get(ids[0] as string)?.access_model_names ?? []);
  const models = new Set<string>();
  for (const id of ids) {
    for (const model of snapshot.accessGroups.get(id)?.access_model_names ?? []) models.add(model);
  }
  return [...models];
}

/** The raw credential the caller presented, when there was one. */
export function presentedCredential(ctx: CheckContext): string | null {
  return ctx.request.credential.kind === 'present' ? ctx.request.credential.value : null;
}

/** LiteLLM `abbreviate_api_key`: `sk-...` + the last 4 characters. Never more of the key than that. */
export function abbreviatedApiKey(ctx: CheckContext): string {
  return `sk-...${(ctx.keyCredential ?? presentedCredential(ctx) ?? '').slice(-4)}`;
}

/**
 * `valid_token.user_id`: the key's user; for a JWT, the user id the token gives (not the row it
 * matched by email or SSO id); otherwise the loaded user.
 */
export function callerUserId(snapshot: Snapshot): string | null {
  if (snapshot.key !== null) return snapshot.key.user_id;
  if (snapshot.jwtUserId !== undefined) return snapshot.jwtUserId;
  return snapshot.user?.user_id ?? null;
}
