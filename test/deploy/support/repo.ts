/**
 * Reading the repository's deployment files from tests: paths are relative to the repo root so a
 * failure message names the file the way a reviewer sees it.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');

export function repoPath(relative: string): string {
  return path.join(repoRoot, relative);
}

export function repoFileExists(relative: string): boolean {
  return existsSync(repoPath(relative));
}

export function readRepoText(relative: string): string {
  return readFileSync(repoPath(relative), 'utf8');
}

/** Files under `dir` (repo-relative) whose names end with one of `suffixes`, sorted. */
export function listRepoFiles(dir: string, suffixes: readonly string[]): string[] {
  const found: string[] = [];
  const walk = (relative: string): void => {
    for (const entry of readdirSync(repoPath(relative))) {
      const child = path.posix.join(relative, entry);
      if (statSync(repoPath(child)).isDirectory()) walk(child);
      else if (suffixes.some((s) => entry.endsWith(s))) found.push(child);
    }
  };
  if (repoFileExists(dir)) walk(dir);
  return found.sort();
}

/**
 * Every document of a YAML text as plain JSON values. Duplicate keys and syntax errors throw:
 * Envoy and the Kubernetes API server would reject or silently pick one of them.
 */
export function parseYamlDocuments(text: string, source: string): unknown[] {
  const values: unknown[] = [];
  for (const doc of parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true })) {
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) throw new Error(`${source}: ${problems.map((p) => p.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) values.push(value);
  }
  return values;
}

export function readRepoYaml(relative: string): unknown[] {
  return parseYamlDocuments(readRepoText(relative), relative);
}

/** The single document of a YAML file; more or fewer is an error. */
export function readRepoYamlSingle(relative: string): unknown {
  const docs = readRepoYaml(relative);
  if (docs.length !== 1) throw new Error(`${relative}: expected one YAML document, found ${docs.length}`);
  return docs[0];
}
