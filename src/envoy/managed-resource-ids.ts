/**
 * The models LiteLLM reads out of its own managed resource ids: the file, batch, fine-tuning,
 * vector store, video and character ids it hands to clients carry the model(s) they were made
 * with, and LiteLLM's `auth_utils._extract_models_from_managed_resource_id` adds those to the
 * request's model candidates, so a key limited to model A cannot reach a file or batch of model B.
 *
 * Pure functions, decoding exactly as LiteLLM's Python does (base64 leniency, UTF-8 strictness,
 * `str.split`, `str.strip`, `re.search`): an id LiteLLM finds no model in yields none here, and an
 * id it does yields the same names. Nothing here throws on hostile input.
 */
import { pythonBase64Decode, pythonBase64DecodedStartsWith } from '../util/python-base64';
import { pyStrip } from '../util/python-strip';

/** Router `resolve_model_name_from_model_id`: the model group of a deployment id, or null when unknown. */
export type ModelIdResolver = (modelId: string) => string | null;

/**
 * `auth_utils._MODEL_ROUTING_ID_FIELDS`, in LiteLLM's order: the request-data fields it decodes,
 * on the routes that read managed ids (files, batches, vector stores, skills, evals, fine tuning,
 * videos). Only these fields, never every string in the body.
 */
export const MANAGED_ID_FIELDS = [
  'file_id',
  'input_file_id',
  'output_file_id',
  'error_file_id',
  'batch_id',
  'fine_tuning_job_id',
  'training_file',
  'validation_file',
  'vector_store_id',
  'video_id',
  'character_id',
] as const;

export type ManagedIdField = (typeof MANAGED_ID_FIELDS)[number];

/** `SpecialEnums.LITELM_MANAGED_FILE_ID_PREFIX`. */
const MANAGED_FILE_PREFIX = 'litellm_proxy';
/** What `managed_resources/utils.decode_unified_id` and `parse_unified_id` require. */
const UNIFIED_ID_PREFIX = 'litellm_proxy:';
const VIDEO_ID_PREFIX = 'video_';
const CAUSYN_VIDEO_ID_PREFIX = 'causyn_';
/** `_VIDEO_ID_CODEC_MODULES`: opaque ids decoded by a provider module (libtv), never by the legacy parser. */
const OPAQUE_VIDEO_ID_PREFIXES = ['video_v2_'] as const;
const CHARACTER_ID_PREFIX = 'character_';

/**
 * `_extract_models_from_managed_resource_id(resource_id, resource_id_field, llm_router)`: every
 * model the id names, first-seen order, without repeats. In LiteLLM's order: the model of a
 * model-embedded `file-`/`batch_` id, the `target_model_names` of a base64 managed file id, the
 * deployment id of a managed batch id, then `parse_unified_id`'s `model_id` and
 * `target_model_names`, and for a video or character id its model id resolved to its model group
 * by the router (the id itself when the router does not know it, or there is no router).
 * Each value then goes through `_append_model_candidates`: split on commas, stripped, blanks dropped.
 */
export function modelsFromManagedResourceId(resourceId: unknown, field: string, resolveModelId: ModelIdResolver | null): readonly string[] {
  if (typeof resourceId !== 'string' || resourceId === '') return [];
  const candidates: string[] = [];
  appendNames(candidates, decodeModelFromFileId(resourceId));
  const unifiedFileId = base64EncodedUnifiedId(resourceId, MANAGED_FILE_PREFIX);
  if (unifiedFileId !== null) {
    for (const model of modelsFromUnifiedFileId(unifiedFileId)) appendNames(candidates, model);
    appendNames(candidates, modelIdFromUnifiedBatchId(unifiedFileId));
  }
  const parsed = parseUnifiedId(resourceId);
  if (parsed !== null) {
    appendNames(candidates, parsed.modelId);
    for (const model of parsed.targetModelNames) appendNames(candidates, model);
  }
  if (field === 'video_id' || field === 'character_id') {
    const modelId = field === 'video_id' ? decodeVideoIdModel(resourceId) : decodeCharacterIdModel(resourceId);
    appendNames(candidates, resolveWithRouter(modelId, resolveModelId));
  }
  return [...new Set(candidates)];
}

/** `_resolve_model_id_with_router`: the router's model group for the id, else the id as it is. */
function resolveWithRouter(modelId: string | null, resolveModelId: ModelIdResolver | null): string | null {
  if (modelId === null || resolveModelId === null) return modelId;
  // The router answers None for an empty id (`if not model_id`); `or model_id` then keeps "".
  return (modelId === '' ? null : resolveModelId(modelId)) ?? modelId;
}

/** `_append_model_candidates` for one string: split on commas, each stripped, blanks dropped. */
function appendNames(candidates: string[], value: string | null): void {
  if (value === null) return;
  for (const name of value.split(',')) {
    const stripped = pyStrip(name);
    if (stripped !== '') candidates.push(stripped);
  }
}

/**
 * `common_utils.decode_model_from_file_id`: `file-` or `batch_` (or nothing) before the base64 of
 * `litellm:<provider id>;model,<model>`; the model is the first `;model,` field, stripped.
 */
export function decodeModelFromFileId(encodedId: string): string | null {
  const b64 = encodedId.startsWith('file-') ? encodedId.slice(5) : encodedId.startsWith('batch_') ? encodedId.slice(6) : encodedId;
  const padded = withPadding(b64);
  if (!pythonBase64DecodedStartsWith(padded, true, 'litellm:')) return null;
  const decoded = urlSafeDecodeText(padded);
  if (decoded === null || !decoded.startsWith('litellm:') || !decoded.includes(';model,')) return null;
  const match = /;model,([^;]+)/.exec(decoded);
  return match === null ? null : pyStrip(match[1]);
}

/**
 * `_is_base64_encoded_unified_file_id` (prefix `litellm_proxy`) and `is_base64_encoded_unified_id`
 * / `decode_unified_id` (prefix `litellm_proxy:`): the padded id decoded with
 * `base64.urlsafe_b64decode(...).decode()`, kept only when it starts with the prefix.
 */
export function base64EncodedUnifiedId(id: string, prefix: string): string | null {
  const padded = withPadding(id);
  if (!pythonBase64DecodedStartsWith(padded, true, prefix)) return null;
  const decoded = urlSafeDecodeText(padded);
  return decoded !== null && decoded.startsWith(prefix) ? decoded : null;
}

/** `get_models_from_unified_file_id`: the first `target_model_names,` field, split on commas, each stripped. */
export function modelsFromUnifiedFileId(unifiedFileId: string): readonly string[] {
  const match = /target_model_names,([^;]+)/.exec(unifiedFileId);
  return match === null ? [] : match[1].split(',').map(pyStrip);
}

/** `get_model_id_from_unified_batch_id`: `file_id.split("model_id:")[1].split(";")[0]`, None without one. */
export function modelIdFromUnifiedBatchId(unifiedId: string): string | null {
  const at = unifiedId.indexOf('model_id:');
  if (at === -1) return null;
  const rest = unifiedId.slice(at + 'model_id:'.length);
  const end = rest.indexOf('model_id:');
  const part = end === -1 ? rest : rest.slice(0, end);
  return part.split(';', 1)[0];
}

export interface ParsedUnifiedId {
  readonly modelId: string | null;
  readonly targetModelNames: readonly string[];
}

/**
 * `managed_resources/utils.parse_unified_id`: a base64 unified id, or one already decoded
 * (`litellm_proxy:…`). Its `model_id` field is anchored to a field boundary (`(?:^|;)model_id,`),
 * as LiteLLM anchors it since a managed file's `llm_output_file_model_id,<deployment hash>` was
 * read as one; `target_model_names` is not anchored there. Each extractor first tries to decode
 * its input again, as LiteLLM's do.
 */
export function parseUnifiedId(unifiedId: string): ParsedUnifiedId | null {
  let decoded = base64EncodedUnifiedId(unifiedId, UNIFIED_ID_PREFIX);
  if (decoded === null) {
    if (!unifiedId.startsWith(UNIFIED_ID_PREFIX)) return null;
    decoded = unifiedId;
  }
  const source = base64EncodedUnifiedId(decoded, UNIFIED_ID_PREFIX) ?? decoded;
  const modelId = /(?:^|;)model_id,([^;]+)/.exec(source);
  const targets = /target_model_names,([^;]+)/.exec(source);
  return {
    modelId: modelId === null ? null : pyStrip(modelId[1]),
    targetModelNames: targets === null ? [] : targets[1].split(',').map(pyStrip),
  };
}

/**
 * `litellm/types/videos/utils.decode_video_id_with_provider`'s `model_id`: `causyn_` ids are
 * `causyn-1-0`; `video_` ids are `video_` + standard base64 of
 * `litellm:custom_llm_provider:<p>;model_id:<id>;video_id:<v>`. Opaque `video_v2_` ids are
 * decoded by a provider codec (libtv) whose format LiteLLM does not publish: no model here.
 */
export function decodeVideoIdModel(encodedVideoId: string): string | null {
  if (encodedVideoId === '') return null;
  if (encodedVideoId.startsWith(CAUSYN_VIDEO_ID_PREFIX)) return 'causyn-1-0';
  if (!encodedVideoId.startsWith(VIDEO_ID_PREFIX)) return null;
  if (OPAQUE_VIDEO_ID_PREFIXES.some((prefix) => encodedVideoId.startsWith(prefix))) return null;
  return modelIdOfProviderId(encodedVideoId.slice(VIDEO_ID_PREFIX.length));
}

/** `decode_character_id_with_provider`'s `model_id`: as a video id, after `str.replace` of every `character_`. */
export function decodeCharacterIdModel(encodedCharacterId: string): string | null {
  if (encodedCharacterId === '' || !encodedCharacterId.startsWith(CHARACTER_ID_PREFIX)) return null;
  return modelIdOfProviderId(encodedCharacterId.split(CHARACTER_ID_PREFIX).join(''));
}

/**
 * The shared body of the two decoders: `_add_base64_padding`, `base64.b64decode` of the UTF-8
 * bytes, `.decode("utf-8")`; without a `;` no model; with three parts or more the second, less
 * every `model_id:` in it; with two, none.
 */
function modelIdOfProviderId(cleaned: string): string | null {
  const decoded = standardDecodeText(withPadding(cleaned));
  if (decoded === null || !decoded.includes(';')) return null;
  const parts = decoded.split(';');
  return parts.length >= 3 ? parts[1].split('model_id:').join('') : null;
}

/** `s + "=" * (-len(s) % 4)`, with len counting code points as Python's does. */
function withPadding(text: string): string {
  const missing = (4 - (codePointLength(text) % 4)) % 4;
  return missing === 0 ? text : text + '='.repeat(missing);
}

function codePointLength(text: string): number {
  // Every char code below 0xD800 is one code point: the usual (ASCII) id needs no walk.
  if (!/[\uD800-\uDFFF]/.test(text)) return text.length;
  let length = 0;
  for (const _ of text) length += 1;
  return length;
}

/** `base64.urlsafe_b64decode(s).decode()` of a str: None where Python raises. */
function urlSafeDecodeText(text: string): string | null {
  try {
    return strictUtf8(pythonBase64Decode(text, true));
  } catch {
    return null;
  }
}

/**
 * `base64.b64decode(s.encode("utf-8")).decode("utf-8")`: bytes, not a str, so a character past
 * ASCII is not refused but skipped like any byte outside the alphabet (all its UTF-8 bytes are).
 */
function standardDecodeText(text: string): string | null {
  // A lone surrogate cannot be encoded: Python raises, LiteLLM catches it and finds no model.
  if (LONE_SURROGATE.test(text)) return null;
  try {
    return strictUtf8(pythonBase64Decode(text.replace(/[\u0080-\u{10ffff}]/gu, ''), false));
  } catch {
    return null;
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** `bytes.decode()`: strict UTF-8, a BOM kept as U+FEFF. Throws where Python raises. */
function strictUtf8(bytes: Uint8Array): string {
  return UTF8.decode(bytes);
}


/**
 * LiteLLM's FastAPI routes whose path names a managed id, and the parameter it lands in: Starlette
 * puts it in `request.path_params`, and `populate_request_with_path_params` copies it into the
 * request data (never over a body or query field) before `get_model_from_request` reads it. A
 * parameter is one segment (`[^/]+`), as in LiteLLM's templates; the `{provider}` forms of the
 * files and batches routes included. The literal words of sibling routes (`/videos/characters`)
 * decode to no model, so they need no exclusion.
 */
const MANAGED_ID_PATHS: ReadonlyArray<readonly [RegExp, ManagedIdField]> = [
  [/^(?:\/v1)?\/vector_stores\/[^/]+\/files\/([^/]+)(?:\/content)?\n?$/, 'file_id'],
  [/^(?:\/v1)?\/containers\/[^/]+\/files\/([^/]+)(?:\/content)?\n?$/, 'file_id'],
  [/^(?:\/[^/]+\/v1|\/v1)?\/files\/([^/]+)(?:\/content)?\n?$/, 'file_id'],
  [/^(?:\/[^/]+\/v1|\/v1)?\/batches\/([^/]+)(?:\/cancel)?\n?$/, 'batch_id'],
  [/^(?:\/v1)?\/fine_tuning\/jobs\/([^/]+)(?:\/cancel)?\n?$/, 'fine_tuning_job_id'],
  [/^(?:\/v1)?\/videos\/characters\/([^/]+)\n?$/, 'character_id'],
  [/^(?:\/v1)?\/videos\/([^/]+)(?:\/content|\/remix)?\n?$/, 'video_id'],
];

/** The managed id a route's path carries, as the parameter LiteLLM names it; null on every other route. */
export function managedIdInPath(route: string): readonly [ManagedIdField, string] | null {
  // Most routes name none: one substring test each before any pattern runs.
  if (!route.includes('/files/') && !route.includes('/batches/') && !route.includes('/fine_tuning/jobs/') && !route.includes('/videos/')) return null;
  for (const [pattern, field] of MANAGED_ID_PATHS) {
    const match = pattern.exec(route);
    if (match !== null) return [field, match[1]];
  }
  return null;
}
