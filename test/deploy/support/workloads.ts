/** Reading pod templates: containers (native sidecars included), env, ports, probes, volumes. */
import { asObject, dig, isObject, objectsAt, type JsonObject } from './json';

export interface Manifest {
  /** Where it came from: a repo file, or "kustomize build <dir>". */
  readonly source: string;
  readonly doc: JsonObject;
}

export const kindOf = (m: Manifest): string => String(m.doc.kind);
export const nameOf = (m: Manifest): string => String(dig(m.doc, 'metadata.name'));

export function ofKind(manifests: readonly Manifest[], kind: string): Manifest[] {
  return manifests.filter((m) => kindOf(m) === kind);
}

export function theOne(manifests: readonly Manifest[], kind: string, name: string): Manifest {
  const found = manifests.filter((m) => kindOf(m) === kind && nameOf(m) === name);
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name}, found ${found.length}`);
  return found[0] as Manifest;
}

/** The pod spec of a Deployment or Job. */
export function podSpec(m: Manifest): JsonObject {
  return asObject(dig(m.doc, 'spec.template.spec'), `${nameOf(m)} pod spec`);
}

export function podLabels(m: Manifest): JsonObject {
  return asObject(dig(m.doc, 'spec.template.metadata.labels') ?? {}, 'pod labels');
}

/** Regular containers and init containers (native sidecars are init containers). */
export function allContainers(spec: JsonObject): JsonObject[] {
  return [...objectsAt(spec, 'initContainers'), ...objectsAt(spec, 'containers')];
}

export function container(spec: JsonObject, name: string): JsonObject {
  const found = allContainers(spec).find((c) => c.name === name);
  if (!found) throw new Error(`no container ${name}`);
  return found;
}

/** A native sidecar: an init container that keeps running (restartPolicy: Always). */
export function isLongRunning(spec: JsonObject, c: JsonObject): boolean {
  return objectsAt(spec, 'containers').includes(c) || c.restartPolicy === 'Always';
}

export function envVar(c: JsonObject, name: string): JsonObject | undefined {
  return objectsAt(c, 'env').find((e) => e.name === name);
}

export function envValue(c: JsonObject, name: string): string | undefined {
  const v = envVar(c, name)?.value;
  return typeof v === 'string' ? v : undefined;
}

/** "127.0.0.1:9001" → { host, port } (the TOLLGATE_*_ADDR format). */
export function hostPort(addr: string): { host: string; port: number } {
  const colon = addr.lastIndexOf(':');
  return { host: addr.slice(0, colon), port: Number(addr.slice(colon + 1)) };
}

export function probes(c: JsonObject): { kind: string; probe: JsonObject }[] {
  return ['startupProbe', 'livenessProbe', 'readinessProbe']
    .filter((kind) => isObject(c[kind]))
    .map((kind) => ({ kind, probe: asObject(c[kind], kind) }));
}

/** The port a probe targets (name or number) and how. */
export function probeTarget(probe: JsonObject): { via: string; port: unknown } | undefined {
  for (const via of ['httpGet', 'tcpSocket', 'grpc']) {
    const action = probe[via];
    if (isObject(action)) return { via, port: action.port };
  }
  return undefined;
}

/** Resolves a port reference (name or number) to a containerPort of `c`. */
export function containerPortOf(c: JsonObject, ref: unknown): number | undefined {
  const ports = objectsAt(c, 'ports');
  const hit = typeof ref === 'number' ? ports.find((p) => p.containerPort === ref) : ports.find((p) => p.name === ref);
  return typeof hit?.containerPort === 'number' ? hit.containerPort : undefined;
}

export function selectorMatches(selector: unknown, labels: JsonObject): boolean {
  if (!isObject(selector)) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Mount path → volume name for a container. */
export function mounts(c: JsonObject): { mountPath: string; name: string }[] {
  return objectsAt(c, 'volumeMounts').map((m) => ({ mountPath: String(m.mountPath), name: String(m.name) }));
}

export function volume(spec: JsonObject, name: string): JsonObject | undefined {
  return objectsAt(spec, 'volumes').find((v) => v.name === name);
}

/** The ConfigMap key a file path inside a container comes from, via its mounted configMap volume. */
export function configMapFileSource(spec: JsonObject, c: JsonObject, file: string): { configMap: string; key: string } | undefined {
  for (const mount of mounts(c)) {
    const prefix = mount.mountPath.endsWith('/') ? mount.mountPath : `${mount.mountPath}/`;
    if (!file.startsWith(prefix)) continue;
    const source = volume(spec, mount.name)?.configMap;
    if (!isObject(source)) continue;
    const relative = file.slice(prefix.length);
    const item = objectsAt(source, 'items').find((i) => i.path === relative);
    return { configMap: String(source.name), key: item ? String(item.key) : relative };
  }
  return undefined;
}
