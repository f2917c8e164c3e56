/**
 * Cross-references inside the Kubernetes manifests: ports vs probes vs Services, ConfigMaps and
 * Secrets the pods use, the Tollgate sidecar vs the pod's Envoy config, the migrate Job vs the
 * gateway. Run on the raw base (always) and on every rendered tree (when kubectl is installed).
 */
import { expect } from 'chai';
import { hasKubectl, kubectlBuild, kustomizationDirs, localBundle } from './support/kustomize';
import { EXTERNAL_SECRETS } from './support/manifests';
import { readRepoText } from './support/repo';
import {
  allProblems,
  gatewayProblems,
  probeProblems,
  referenceProblems,
  securityProblems,
  selectorProblems,
  volumeProblems,
} from './support/wiring';
import { container, podSpec, theOne, type Manifest } from './support/workloads';

describe('deploy: Kubernetes wiring (base, as written)', () => {
  const base = (): Manifest[] => localBundle('deploy/base');

  it('runs every container non-root, read-only, without privileges, with resources and a pinned image', () => {
    expect(securityProblems(base())).to.deep.equal([]);
  });

  it('probes every long-running container on a port it declares, never on a loopback-only port', () => {
    expect(probeProblems(base())).to.deep.equal([]);
  });

  it('points the Service and the PodDisruptionBudget at the gateway pods and their ports', () => {
    expect(selectorProblems(base())).to.deep.equal([]);
  });

  it('mounts only declared volumes, and the ConfigMaps and keys they name exist', () => {
    expect(volumeProblems(base())).to.deep.equal([]);
  });

  it('refers only to Secrets that exist or are documented as external, with their keys', () => {
    expect(referenceProblems(base(), EXTERNAL_SECRETS)).to.deep.equal([]);
  });

  it('documents every external Secret and key in docs/deploy.md', () => {
    const docs = readRepoText('docs/deploy.md');
    for (const [name, keys] of EXTERNAL_SECRETS) {
      expect(docs).to.include(name);
      for (const key of keys) expect(docs).to.include(key);
    }
  });

  it("agrees with the pod's Envoy config on Tollgate's address, and the migrate Job uses the same image and database", () => {
    expect(gatewayProblems(base())).to.deep.equal([]);
  });

  it('the checks are real: they catch a probe on the loopback gRPC port and a missing Secret key', () => {
    const broken = base().map((m) => ({ ...m, doc: JSON.parse(JSON.stringify(m.doc)) as Manifest['doc'] }));
    const tollgate = container(podSpec(theOne(broken, 'Deployment', 'llm-gateway')), 'tollgate');
    tollgate.ports = [...(tollgate.ports as object[]), { name: 'grpc', containerPort: 9001 }];
    tollgate.readinessProbe = { grpc: { port: 9001 } };
    expect(probeProblems(broken).join('\n')).to.include('bound to loopback');
    expect(referenceProblems(broken, new Map([['tollgate-secrets', ['DATABASE_URL']]])).join('\n')).to.include('REDIS_URL');
  });
});

describe('deploy: Kubernetes wiring (rendered with kubectl kustomize)', () => {
  for (const dir of kustomizationDirs()) {
    it(`${dir}: no wiring problems`, function () {
      if (!hasKubectl()) this.skip();
      this.timeout(30_000); // kubectl kustomize takes a few hundred ms per tree
      expect(allProblems(kubectlBuild(dir), EXTERNAL_SECRETS)).to.deep.equal([]);
    });
  }
});
