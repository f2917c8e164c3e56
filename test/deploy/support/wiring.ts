/**
 * Cross-reference checks over a set of Kubernetes objects (a kustomize build or the raw base).
 * Each returns a list of problems, so one run reports everything that is wrong.
 */
import { parse as parseYaml } from 'yaml';
import { dataOf } from './kustomize';
import { asArray, dig, isObject, objectsAt, type JsonObject } from './json';
import {
  allContainers,
  configMapFileSource,
  containerPortOf,
  envValue,
  hostPort,
  isLongRunning,
  kindOf,
  mounts,
  nameOf,
  ofKind,
  podLabels,
  podSpec,
  probeTarget,
  probes,
  selectorMatches,
  volume,
  type Manifest,
} from './workloads';

export type Problems = string[];

const WORKLOAD_KINDS = ['Deployment', 'Job'];

/** Containers a mutating webhook fills in (Istio's `image: auto`): not ours to configure. */
function isInjected(c: JsonObject): boolean {
  return c.image === 'auto';
}

function workloads(bundle: readonly Manifest[]): Manifest[] {
  return bundle.filter((m) => WORKLOAD_KINDS.includes(kindOf(m)));
}

function label(m: Manifest, c?: JsonObject): string {
  return `${kindOf(m)}/${nameOf(m)}${c ? ` container ${String(c.name)}` : ''}`;
}

/** The names under which a ConfigMap/Secret may appear: kustomize appends a content hash. */
function sameGeneratedName(actual: string, wanted: string): boolean {
  return actual === wanted || new RegExp(`^${wanted}-[a-z0-9]{10}$`).test(actual);
}

function findData(bundle: readonly Manifest[], kind: string, name: string): Map<string, string> | undefined {
  const hit = bundle.find((m) => kindOf(m) === kind && nameOf(m) === name);
  return hit ? dataOf(hit) : undefined;
}

/** Non-root, read-only, no privilege escalation, no capabilities, seccomp, resources, pinned image. */
export function securityProblems(bundle: readonly Manifest[]): Problems {
  const problems: Problems = [];
  for (const m of workloads(bundle)) {
    const spec = podSpec(m);
    const pod = isObject(spec.securityContext) ? spec.securityContext : {};
    if (spec.automountServiceAccountToken !== false) problems.push(`${label(m)}: automountServiceAccountToken should be false`);
    for (const c of allContainers(spec).filter((x) => !isInjected(x))) {
      const sc = isObject(c.securityContext) ? c.securityContext : {};
      const where = label(m, c);
      if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) problems.push(`${where}: runAsNonRoot must be true`);
      if ((sc.runAsUser ?? pod.runAsUser) === 0) problems.push(`${where}: runs as uid 0`);
      if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem must be true`);
      if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation must be false`);
      if (sc.privileged === true) problems.push(`${where}: privileged`);
      const drop = dig(sc, 'capabilities.drop');
      if (!Array.isArray(drop) || !drop.includes('ALL')) problems.push(`${where}: capabilities.drop must include ALL`);
      if ((dig(sc, 'seccompProfile.type') ?? dig(pod, 'seccompProfile.type')) !== 'RuntimeDefault') {
        problems.push(`${where}: seccompProfile must be RuntimeDefault`);
      }
      for (const r of ['requests.cpu', 'requests.memory', 'limits.memory']) {
        if (dig(c.resources, r) === undefined) problems.push(`${where}: resources.${r} is not set`);
      }
      const image = String(c.image ?? '');
      if (!/:[\w.-]+$/.test(image) && !image.includes('@sha256:')) problems.push(`${where}: image ${image} has no tag`);
      if (image.endsWith(':latest')) problems.push(`${where}: image ${image} uses :latest`);
    }
  }
  return problems;
}

/** Ports bound to loopback by a TOLLGATE_*_ADDR-style variable: unreachable for kubelet and Services. */
function loopbackPorts(c: JsonObject): number[] {
  return objectsAt(c, 'env')
    .filter((e) => String(e.name).endsWith('_ADDR') && typeof e.value === 'string')
    .map((e) => hostPort(String(e.value)))
    .filter((a) => a.host === '127.0.0.1' || a.host === 'localhost' || a.host === '[::1]')
    .map((a) => a.port);
}

/** Long-running containers have readiness and liveness probes, aimed at ports they expose. */
export function probeProblems(bundle: readonly Manifest[]): Problems {
  const problems: Problems = [];
  for (const m of ofKind(bundle, 'Deployment')) {
    const spec = podSpec(m);
    for (const c of allContainers(spec).filter((x) => !isInjected(x) && isLongRunning(spec, x))) {
      const kinds = probes(c).map((p) => p.kind);
      for (const needed of ['readinessProbe', 'livenessProbe']) {
        if (!kinds.includes(needed)) problems.push(`${label(m, c)}: no ${needed}`);
      }
      const loopback = loopbackPorts(c);
      for (const { kind, probe } of probes(c)) {
        const target = probeTarget(probe);
        if (target === undefined) {
          if (!isObject(probe.exec)) problems.push(`${label(m, c)}: ${kind} has no action`);
          continue;
        }
        const port = containerPortOf(c, target.port);
        if (port === undefined) problems.push(`${label(m, c)}: ${kind} port ${String(target.port)} is not a containerPort`);
        else if (loopback.includes(port)) problems.push(`${label(m, c)}: ${kind} targets ${port}, which is bound to loopback`);
      }
      for (const p of objectsAt(c, 'ports')) {
        if (loopback.includes(Number(p.containerPort))) {
          problems.push(`${label(m, c)}: declares containerPort ${String(p.containerPort)}, which is bound to loopback`);
        }
      }
    }
  }
  return problems;
}

/** Services and PodDisruptionBudgets select a workload; Service targetPorts exist on its pods. */
export function selectorProblems(bundle: readonly Manifest[]): Problems {
  const problems: Problems = [];
  const deployments = ofKind(bundle, 'Deployment');
  for (const d of deployments) {
    if (!selectorMatches(dig(d.doc, 'spec.selector.matchLabels'), podLabels(d))) {
      problems.push(`${label(d)}: selector does not match its own pod template labels`);
    }
  }
  for (const s of ofKind(bundle, 'Service')) {
    const selected = deployments.filter((d) => selectorMatches(dig(s.doc, 'spec.selector'), podLabels(d)));
    if (selected.length === 0) problems.push(`Service/${nameOf(s)}: selects no Deployment's pods`);
    for (const d of selected) {
      for (const port of objectsAt(s.doc, 'spec.ports')) {
        const target = port.targetPort ?? port.port;
        const served = allContainers(podSpec(d)).some((c) => containerPortOf(c, target) !== undefined);
        if (!served) problems.push(`Service/${nameOf(s)}: targetPort ${String(target)} is no containerPort of ${label(d)}`);
      }
    }
  }
  for (const pdb of ofKind(bundle, 'PodDisruptionBudget')) {
    if (!deployments.some((d) => selectorMatches(dig(pdb.doc, 'spec.selector.matchLabels'), podLabels(d)))) {
      problems.push(`PodDisruptionBudget/${nameOf(pdb)}: selects no Deployment's pods`);
    }
  }
  return problems;
}

/** Mounts name declared volumes, volumes are used, configMap volumes and their keys exist. */
export function volumeProblems(bundle: readonly Manifest[]): Problems {
  const problems: Problems = [];
  for (const m of workloads(bundle)) {
    const spec = podSpec(m);
    const used = new Set(allContainers(spec).flatMap((c) => mounts(c).map((x) => x.name)));
    for (const c of allContainers(spec)) {
      for (const mount of mounts(c)) {
        if (volume(spec, mount.name) === undefined) problems.push(`${label(m, c)}: mounts undeclared volume ${mount.name}`);
      }
    }
    for (const v of objectsAt(spec, 'volumes')) {
      if (!used.has(String(v.name))) problems.push(`${label(m)}: volume ${String(v.name)} is never mounted`);
      const cm = v.configMap;
      if (!isObject(cm)) continue;
      const data = findData(bundle, 'ConfigMap', String(cm.name));
      if (data === undefined) {
        problems.push(`${label(m)}: ConfigMap ${String(cm.name)} does not exist`);
        continue;
      }
      for (const item of objectsAt(cm, 'items')) {
        if (!data.has(String(item.key))) problems.push(`${label(m)}: ConfigMap ${String(cm.name)} has no key ${String(item.key)}`);
      }
    }
  }
  return problems;
}

/**
 * Every required secretKeyRef/configMapKeyRef resolves to an object in the bundle with that key,
 * or to a Secret documented as created outside the manifests (`external`: name → keys).
 */
export function referenceProblems(bundle: readonly Manifest[], external: ReadonlyMap<string, readonly string[]>): Problems {
  const problems: Problems = [];
  for (const m of workloads(bundle)) {
    for (const c of allContainers(podSpec(m))) {
      for (const env of objectsAt(c, 'env')) {
        for (const [refKind, kind] of [
          ['secretKeyRef', 'Secret'],
          ['configMapKeyRef', 'ConfigMap'],
        ] as const) {
          const ref = dig(env, `valueFrom.${refKind}`);
          if (!isObject(ref) || ref.optional === true) continue;
          const name = String(ref.name);
          const key = String(ref.key);
          const data = findData(bundle, kind, name);
          const externalKeys = kind === 'Secret' ? [...external].find(([n]) => sameGeneratedName(name, n))?.[1] : undefined;
          if (data !== undefined ? !data.has(key) : !externalKeys?.includes(key)) {
            problems.push(`${label(m, c)}: ${String(env.name)} refers to ${kind} ${name} key ${key}, which is not defined or documented`);
          }
        }
      }
    }
  }
  return problems;
}

/** prometheus.io annotations point at a port a container of the pod exposes. */
export function scrapeProblems(bundle: readonly Manifest[]): Problems {
  const problems: Problems = [];
  for (const m of ofKind(bundle, 'Deployment')) {
    const annotations = dig(m.doc, 'spec.template.metadata.annotations');
    if (!isObject(annotations) || annotations['prometheus.io/scrape'] !== 'true') continue;
    const port = Number(annotations['prometheus.io/port']);
    if (!allContainers(podSpec(m)).some((c) => containerPortOf(c, port) !== undefined)) {
      problems.push(`${label(m)}: prometheus.io/port ${String(annotations['prometheus.io/port'])} is not a containerPort`);
    }
    if (typeof annotations['prometheus.io/path'] !== 'string') problems.push(`${label(m)}: prometheus.io/path is not set`);
  }
  return problems;
}

/** The Envoy bootstrap a container runs (`-c <file>`), read from its ConfigMap. */
export function envoyConfigOf(bundle: readonly Manifest[], m: Manifest, c: JsonObject): unknown {
  const args = (c.args === undefined ? [] : asArray(c.args, 'args')).map(String);
  const file = args[args.indexOf('-c') + 1];
  if (args.indexOf('-c') < 0 || file === undefined) throw new Error(`${label(m, c)}: no -c <config> argument`);
  const source = configMapFileSource(podSpec(m), c, file);
  if (source === undefined) throw new Error(`${label(m, c)}: ${file} is not on a configMap volume`);
  const text = findData(bundle, 'ConfigMap', source.configMap)?.get(source.key);
  if (text === undefined) throw new Error(`${label(m, c)}: ConfigMap ${source.configMap} has no key ${source.key}`);
  return parseYaml(text) as unknown;
}

/**
 * The gateway pod: Tollgate is a native sidecar running `serve` on loopback gRPC and a reachable
 * HTTP port, its config file comes from a ConfigMap, and (when the pod runs its own Envoy) Envoy's
 * tollgate cluster and listener agree with the container env and ports. The migrate Job runs the
 * same image against the same database.
 */
export function gatewayProblems(bundle: readonly Manifest[]): Problems {
  const problems: Problems = [];
  for (const m of ofKind(bundle, 'Deployment')) {
    const spec = podSpec(m);
    const tollgate = allContainers(spec).find((c) => c.name === 'tollgate');
    if (tollgate === undefined) continue;
    const where = label(m, tollgate);
    if (tollgate.restartPolicy !== 'Always') problems.push(`${where}: should be a native sidecar (restartPolicy: Always)`);
    if (JSON.stringify(tollgate.args) !== JSON.stringify(['serve'])) problems.push(`${where}: args should be ["serve"]`);
    const grpcAddr = hostPort(envValue(tollgate, 'TOLLGATE_GRPC_ADDR') ?? '');
    if (grpcAddr.host !== '127.0.0.1') problems.push(`${where}: TOLLGATE_GRPC_ADDR should bind 127.0.0.1`);
    const httpAddr = hostPort(envValue(tollgate, 'TOLLGATE_HTTP_ADDR') ?? '');
    if (containerPortOf(tollgate, httpAddr.port) === undefined) problems.push(`${where}: TOLLGATE_HTTP_ADDR port is not a containerPort`);
    const configFile = envValue(tollgate, 'TOLLGATE_CONFIG');
    const configSource = configFile === undefined ? undefined : configMapFileSource(spec, tollgate, configFile);
    if (configSource === undefined || findData(bundle, 'ConfigMap', configSource.configMap)?.has(configSource.key) !== true) {
      problems.push(`${where}: TOLLGATE_CONFIG ${String(configFile)} is not a key of a mounted ConfigMap`);
    }

    const envoy = allContainers(spec).find((c) => c.name === 'envoy');
    if (envoy !== undefined) {
      const config = envoyConfigOf(bundle, m, envoy);
      const tollgateSocket = tollgateSocketOf(config);
      if (tollgateSocket.address !== grpcAddr.host || tollgateSocket.port !== grpcAddr.port) {
        problems.push(`${label(m, envoy)}: Envoy's tollgate cluster (${tollgateSocket.address}:${tollgateSocket.port}) is not TOLLGATE_GRPC_ADDR`);
      }
      const listenerPorts = objectsAt(config, 'static_resources.listeners').map((l) => Number(dig(l, 'address.socket_address.port_value')));
      for (const port of listenerPorts) {
        if (containerPortOf(envoy, port) === undefined) problems.push(`${label(m, envoy)}: listener port ${port} is not a containerPort`);
      }
    }

    for (const job of ofKind(bundle, 'Job')) {
      const migrate = allContainers(podSpec(job))[0];
      if (migrate === undefined || JSON.stringify(migrate.args) !== JSON.stringify(['migrate'])) continue;
      if (migrate.image !== tollgate.image) problems.push(`${label(job, migrate)}: image ${String(migrate.image)} differs from ${String(tollgate.image)}`);
      const ref = (c: JsonObject): string => JSON.stringify(dig(objectsAt(c, 'env').find((e) => e.name === 'DATABASE_URL'), 'valueFrom'));
      if (ref(migrate) !== ref(tollgate)) problems.push(`${label(job, migrate)}: DATABASE_URL differs from the gateway's`);
    }
  }
  return problems;
}

/** host/port of the `tollgate` cluster's endpoint in a (parsed, not decoded) Envoy bootstrap. */
export function tollgateSocketOf(config: unknown): { address: string; port: number } {
  const cluster = objectsAt(config, 'static_resources.clusters').find((c) => c.name === 'tollgate');
  const endpoint = objectsAt(cluster, 'load_assignment.endpoints')
    .flatMap((e) => objectsAt(e, 'lb_endpoints'))
    .map((e) => dig(e, 'endpoint.address.socket_address'))[0];
  return { address: String(dig(endpoint, 'address')), port: Number(dig(endpoint, 'port_value')) };
}

export function allProblems(bundle: readonly Manifest[], external: ReadonlyMap<string, readonly string[]>): Problems {
  return [
    ...securityProblems(bundle),
    ...probeProblems(bundle),
    ...selectorProblems(bundle),
    ...volumeProblems(bundle),
    ...referenceProblems(bundle, external),
    ...scrapeProblems(bundle),
    ...gatewayProblems(bundle),
  ];
}
