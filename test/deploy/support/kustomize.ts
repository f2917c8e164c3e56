/**
 * Our kustomize trees, read two ways:
 *  - `localBundle`: a small reader of the base (resources + generators, no patches), enough for
 *    the cross-reference checks without any external tool;
 *  - `kubectlBuild`: the real `kubectl kustomize` output of any directory, when kubectl is installed
 *    (otherwise the rendering tests are skipped, not failed).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { asArray, asObject, isObject, type JsonObject } from './json';
import { listRepoFiles, parseYamlDocuments, readRepoText, readRepoYaml, readRepoYamlSingle, repoFileExists, repoPath } from './repo';
import type { Manifest } from './workloads';

/** Fields of a Kustomization we use or would accept; anything else is probably a typo. */
const KUSTOMIZATION_FIELDS = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'namePrefix',
  'nameSuffix',
  'labels',
  'commonAnnotations',
  'resources',
  'components',
  'patches',
  'configMapGenerator',
  'secretGenerator',
  'generatorOptions',
  'images',
  'replicas',
]);

export interface Kustomization {
  readonly dir: string;
  readonly doc: JsonObject;
}

export function kustomizationDirs(): string[] {
  return listRepoFiles('deploy', ['kustomization.yaml']).map((f) => path.posix.dirname(f));
}

export function readKustomization(dir: string): Kustomization {
  const doc = asObject(readRepoYamlSingle(`${dir}/kustomization.yaml`), `${dir}/kustomization.yaml`);
  return { dir, doc };
}

export function unknownKustomizationFields(k: Kustomization): string[] {
  return Object.keys(k.doc).filter((key) => !KUSTOMIZATION_FIELDS.has(key));
}

function strings(value: unknown, what: string): string[] {
  return value === undefined ? [] : asArray(value, what).map(String);
}

/** Repo-relative paths of resources (files or directories) listed by a kustomization. */
export function resourcePaths(k: Kustomization): string[] {
  return strings(k.doc.resources, 'resources').map((r) => path.posix.normalize(path.posix.join(k.dir, r)));
}

export function patchPaths(k: Kustomization): string[] {
  return (k.doc.patches === undefined ? [] : asArray(k.doc.patches, 'patches'))
    .map((p) => asObject(p, 'patch'))
    .filter((p) => typeof p.path === 'string')
    .map((p) => path.posix.join(k.dir, String(p.path)));
}

interface Generator {
  readonly kind: 'ConfigMap' | 'Secret';
  readonly name: string;
  /** data key → repo-relative source file */
  readonly files: ReadonlyMap<string, string>;
  readonly literals: ReadonlyMap<string, string>;
}

export function generators(k: Kustomization): Generator[] {
  const read = (field: string, kind: Generator['kind']): Generator[] =>
    (k.doc[field] === undefined ? [] : asArray(k.doc[field], field)).map((g) => {
      const gen = asObject(g, field);
      const files = new Map(
        strings(gen.files, 'files').map((entry) => {
          const [key, file] = entry.includes('=') ? entry.split('=', 2) : [path.posix.basename(entry), entry];
          return [String(key), path.posix.join(k.dir, String(file))];
        }),
      );
      const literals = new Map(
        strings(gen.literals, 'literals').map((entry) => {
          const eq = entry.indexOf('=');
          return [entry.slice(0, eq), entry.slice(eq + 1)];
        }),
      );
      return { kind, name: String(gen.name), files, literals };
    });
  return [...read('configMapGenerator', 'ConfigMap'), ...read('secretGenerator', 'Secret')];
}

/** Every file a kustomization points at (resources, patches, generator sources). */
export function referencedFiles(k: Kustomization): string[] {
  return [...resourcePaths(k), ...patchPaths(k), ...generators(k).flatMap((g) => [...g.files.values()])];
}

/**
 * The objects a kustomization directory produces, without applying patches or transformers:
 * file resources as written, directory resources recursively, generators as plain objects
 * (un-hashed names, data read from their files).
 */
export function localBundle(dir: string): Manifest[] {
  const k = readKustomization(dir);
  const manifests: Manifest[] = [];
  for (const resource of resourcePaths(k)) {
    if (repoFileExists(`${resource}/kustomization.yaml`)) manifests.push(...localBundle(resource));
    else manifests.push(...readRepoYaml(resource).map((doc) => ({ source: resource, doc: asObject(doc, resource) })));
  }
  for (const g of generators(k)) {
    const data: JsonObject = {};
    for (const [key, file] of g.files) data[key] = readRepoText(file);
    for (const [key, value] of g.literals) data[key] = value;
    manifests.push({
      source: `${dir}/kustomization.yaml (${g.kind} generator)`,
      doc: { apiVersion: 'v1', kind: g.kind, metadata: { name: g.name }, data },
    });
  }
  return manifests;
}

let kubectlAvailable: boolean | undefined;

export function hasKubectl(): boolean {
  kubectlAvailable ??= spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  return kubectlAvailable;
}

const builds = new Map<string, readonly Manifest[]>();

/** `kubectl kustomize <dir>` (kustomize built into kubectl), parsed; built once per test run. */
export function kubectlBuild(dir: string): Manifest[] {
  const cached = builds.get(dir);
  if (cached) return structuredClone([...cached]);
  const run = spawnSync('kubectl', ['kustomize', repoPath(dir)], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${run.stderr}`);
  const source = `kustomize build ${dir}`;
  const manifests = parseYamlDocuments(run.stdout, source).map((doc) => ({ source, doc: asObject(doc, source) }));
  builds.set(dir, manifests);
  return structuredClone(manifests);
}

/** Data of a ConfigMap/Secret (stringData merged in), values as strings. */
export function dataOf(m: Manifest): Map<string, string> {
  const out = new Map<string, string>();
  for (const field of ['data', 'stringData']) {
    const data = m.doc[field];
    if (isObject(data)) for (const [k, v] of Object.entries(data)) out.set(k, String(v));
  }
  return out;
}
