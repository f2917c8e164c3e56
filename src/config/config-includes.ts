/**
 * The config file's `include:` list, merged as LiteLLM's proxy merges it (`ProxyConfig.
 * _process_includes`), so that a config split into files means here what it means to LiteLLM:
 *
 * - `include` must be a list of paths, each relative to the main file's directory (an absolute one
 *   stays as it is); a missing file stops startup;
 * - each file's top-level keys are merged in order: a list under a key the config already has is
 *   appended to it (two files' `model_list`s become one), anything else replaces the key whole (an
 *   included `general_settings` replaces the main file's, it is not merged into it);
 * - an included file's own `include` list is appended to the list being read, so its paths too are
 *   relative to the main file's directory.
 *
 * Where LiteLLM fails to start (a list to append to something that is not a list, a file that is
 * not a mapping), Tollgate refuses with the file and key named; where LiteLLM would loop for ever
 * (a file read again through its own includes: itself, the main file, or one that led to it),
 * Tollgate refuses when it meets it. A file included twice side by side is read twice, as there.
 */
import { dirname, isAbsolute, resolve, sep } from 'node:path';
import { isAlias, isSeq, type Document } from 'yaml';
import type { Json } from '../domain/entities';
import { isTruthy } from '../domain/truthiness';

/** A YAML file as read: its parsed document (for what needs PyYAML's view of a value) and its value. */
export interface YamlFile {
  readonly path: string;
  /** The file itself (symlinks followed), to know it when an include names it again; else `path`. */
  readonly identity?: string;
  readonly document: Document.Parsed;
  readonly value: unknown;
}

/** One `model_list` entry of the merged config, with the document its YAML node belongs to. */
export interface ModelEntrySource {
  readonly node: unknown;
  readonly document: Document.Parsed;
}

export interface MergedConfig {
  readonly value: Record<string, unknown>;
  /** The document each top-level key's value was read from (the last file that set it). */
  readonly documentOf: (key: string) => Document.Parsed;
  /** The merged `model_list`'s entries in order; null when they cannot be paired with their nodes. */
  readonly modelEntries: readonly ModelEntrySource[] | null;
}

/**
 * Files read in all, a bound for includes that never loop but multiply (each file naming the next
 * twice); far more than a config split one file per deployment.
 */
export const MAX_INCLUDED_FILES = 10_000;

export class IncludeError extends Error {}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function seqItems(node: unknown, document: Document.Parsed): readonly unknown[] | null {
  const target = isAlias(node) ? node.resolve(document) : node;
  return isSeq(target) ? target.items : null;
}

function entriesOf(file: YamlFile, key: string, value: unknown[]): ModelEntrySource[] | null {
  const items = seqItems(file.document.get(key, true), file.document);
  if (items === null || items.length !== value.length) return null;
  return items.map((node) => ({ node, document: file.document }));
}

/**
 * Python's `os.path.join(base_dir, entry)`: an absolute entry as it is, else the two joined with
 * no normalisation. `path.resolve` would fold `link/../x.yaml` to `x.yaml` beside the main file,
 * where the system (and so LiteLLM) follows `link` first and reads the x.yaml beside its target.
 */
function pythonJoin(baseDir: string, entry: string): string {
  if (isAbsolute(entry)) return entry;
  return baseDir.endsWith(sep) ? baseDir + entry : baseDir + sep + entry;
}

/**
 * The main file's value with its includes merged in. `read` loads one included file by absolute
 * path (and throws a ConfigError-worthy error itself when it cannot read or parse it).
 */
export function mergeIncludes(main: YamlFile, read: (path: string) => YamlFile): MergedConfig {
  if (!isMapping(main.value)) throw new IncludeError(`${main.path}: the config must be a mapping`);
  const config: Record<string, unknown> = main.value;
  const owners = new Map<string, Document.Parsed>();
  const documentOf = (key: string): Document.Parsed => owners.get(key) ?? main.document;
  // Each list's entries with their YAML nodes, by the list itself rather than by key: an alias
  // makes one list the value of several keys (`shared: &m [...]`, `model_list: *m`), and
  // appending to it under any of them appends to model_list too, in PyYAML's objects as here.
  const sources = new Map<unknown[], ModelEntrySource[] | null>();
  for (const [key, value] of Object.entries(config)) {
    if (Array.isArray(value) && !sources.has(value)) sources.set(value, entriesOf(main, key, value));
  }
  const modelEntries = (): ModelEntrySource[] | null => (Array.isArray(config.model_list) ? (sources.get(config.model_list) ?? null) : null);
  if (!('include' in config)) return { value: config, documentOf, modelEntries: modelEntries() };

  const includes = config.include;
  if (!Array.isArray(includes)) throw new IncludeError(`${main.path}: 'include' must be a list of file paths`);
  const baseDir = dirname(resolve(main.path));
  // For each entry of the list, the one whose file appended it (-1: the main file's own), and
  // each file read: the chain of files that led to an entry, where one met again means a loop.
  const parents: number[] = includes.map(() => -1);
  const identities: string[] = [];
  // Read by index: an included file's own `include` list is appended to this one as it is read.
  for (let index = 0; index < includes.length; index += 1) {
    if (index >= MAX_INCLUDED_FILES) throw new IncludeError(`${main.path}: 'include' reads more than ${MAX_INCLUDED_FILES} files`);
    const entry: unknown = includes[index];
    if (typeof entry !== 'string') throw new IncludeError(`${main.path}: 'include' entry ${index + 1} is not a file path`);
    const file = read(pythonJoin(baseDir, entry));
    const identity = file.identity ?? file.path;
    for (let at = parents[index] ?? -1; ; at = parents[at] ?? -1) {
      if ((at === -1 ? (main.identity ?? main.path) : identities[at]) === identity) {
        throw new IncludeError(`${file.path}: included again through its own includes, which LiteLLM would read for ever`);
      }
      if (at === -1) break;
    }
    identities[index] = identity;
    const listed = includes.length;
    // PyYAML's `safe_load(file) or {}`: an empty file, or one holding only a falsy value, is no
    // keys (a timestamp, which is no JSON value, is truthy there).
    const value = file.value instanceof Date || isTruthy(file.value as Json) ? file.value : {};
    if (!isMapping(value)) throw new IncludeError(`${file.path}: an included file must be a mapping of config keys`);
    for (const [key, included] of Object.entries(value)) {
      if (Array.isArray(included) && !sources.has(included)) sources.set(included, entriesOf(file, key, included));
      // Own keys only, as Python's `key in config` sees them: not `toString` or `constructor`.
      if (Array.isArray(included) && Object.hasOwn(config, key)) {
        const existing = config[key];
        if (!Array.isArray(existing)) {
          throw new IncludeError(`${file.path}: '${key}' is a list, but the config's '${key}' is not one it can be appended to`);
        }
        const before = sources.get(existing) ?? null;
        const added = sources.get(included) ?? null;
        // One push per item: push(...items) passes each as an argument, and a list of some
        // hundred thousand entries overflows the stack.
        for (const item of included as unknown[]) existing.push(item);
        sources.set(existing, before === null || added === null ? null : [...before, ...added]);
      } else {
        // A key like any other even when it is `__proto__` (a plain assignment would set the prototype).
        Object.defineProperty(config, key, { value: included, writable: true, enumerable: true, configurable: true });
        owners.set(key, file.document);
      }
    }
    for (let added = listed; added < includes.length; added += 1) parents[added] = index;
  }
  delete config.include;
  return { value: config, documentOf, modelEntries: modelEntries() };
}
