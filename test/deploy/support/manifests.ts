/** The Kubernetes manifest files under deploy/, told apart from patches and generator sources. */
import { generators, kustomizationDirs, patchPaths, readKustomization } from './kustomize';
import { asObject } from './json';
import { listRepoFiles, readRepoYaml } from './repo';
import type { Manifest } from './workloads';

/** Applied on their own, not through a kustomization (documented in the files and docs/deploy.md). */
export const STANDALONE_MANIFESTS: readonly string[] = ['deploy/istio/mesh-config.yaml'];

/**
 * Secrets the manifests reference but deliberately do not contain (created from a secret manager),
 * with the keys they must have. docs/deploy.md documents each one.
 */
export const EXTERNAL_SECRETS: ReadonlyMap<string, readonly string[]> = new Map([
  ['tollgate-secrets', ['DATABASE_URL', 'REDIS_URL', 'LITELLM_MASTER_KEY']],
]);

/** Files that are inputs to kustomize rather than whole objects: patches and generator sources. */
export function kustomizeInputs(): Set<string> {
  const inputs = new Set<string>();
  for (const dir of kustomizationDirs()) {
    const k = readKustomization(dir);
    patchPaths(k).forEach((p) => inputs.add(p));
    generators(k).forEach((g) => g.files.forEach((file) => inputs.add(file)));
  }
  return inputs;
}

/** Every whole-object manifest file under deploy/. */
export function manifestFiles(): string[] {
  const inputs = kustomizeInputs();
  return listRepoFiles('deploy', ['.yaml', '.yml']).filter((f) => !f.endsWith('/kustomization.yaml') && !inputs.has(f));
}

export function readManifests(file: string): Manifest[] {
  return readRepoYaml(file).map((doc) => ({ source: file, doc: asObject(doc, file) }));
}
