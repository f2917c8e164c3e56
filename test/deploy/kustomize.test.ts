/**
 * The kustomize trees are complete and consistent: every referenced file exists, every manifest is
 * reachable, patches target objects that exist, and (with kubectl installed) every tree renders and
 * every rendered object validates.
 */
import { expect } from 'chai';
import { dig } from './support/json';
import { validateWithModel } from './support/k8s-models';
import {
  hasKubectl,
  kubectlBuild,
  kustomizationDirs,
  localBundle,
  patchPaths,
  readKustomization,
  referencedFiles,
  resourcePaths,
  unknownKustomizationFields,
} from './support/kustomize';
import { STANDALONE_MANIFESTS, manifestFiles, readManifests } from './support/manifests';
import { repoFileExists } from './support/repo';
import { kindOf, nameOf } from './support/workloads';

const EXPECTED_DIRS = ['deploy/base', 'deploy/istio', 'deploy/overlays/dev', 'deploy/overlays/production'];

describe('deploy: kustomize trees', () => {
  it('has a base, dev and production overlays, and the Istio variant', () => {
    expect(kustomizationDirs()).to.include.members(EXPECTED_DIRS);
  });

  for (const dir of kustomizationDirs()) {
    describe(dir, () => {
      const k = () => readKustomization(dir);

      it('is a kustomize.config.k8s.io/v1beta1 Kustomization with known fields only', () => {
        expect(k().doc.apiVersion).to.equal('kustomize.config.k8s.io/v1beta1');
        expect(k().doc.kind).to.equal('Kustomization');
        expect(unknownKustomizationFields(k())).to.deep.equal([]);
      });

      it('lists only files and directories that exist', () => {
        for (const file of referencedFiles(k())) {
          expect(repoFileExists(file), file).to.equal(true);
        }
      });

      it('patches only objects that its resources define', () => {
        const bundle = localBundle(dir);
        for (const patch of patchPaths(k())) {
          for (const m of readManifests(patch)) {
            const target = bundle.find((b) => kindOf(b) === kindOf(m) && nameOf(b) === nameOf(m));
            expect(target, `${patch}: ${kindOf(m)}/${nameOf(m)}`).to.not.equal(undefined);
          }
        }
      });

      it('renders with kubectl kustomize, and every rendered object validates', function () {
        if (!hasKubectl()) this.skip();
        this.timeout(30_000); // kubectl kustomize takes a few hundred ms per tree
        const rendered = kubectlBuild(dir);
        expect(rendered).to.have.length.greaterThan(0);
        for (const m of rendered) {
          expect(() => validateWithModel(m.doc), `${kindOf(m)}/${nameOf(m)}`).to.not.throw();
        }
      });
    });
  }

  it('reaches every manifest file from some kustomization, except the documented standalone ones', () => {
    const listed = new Set(kustomizationDirs().flatMap((dir) => resourcePaths(readKustomization(dir))));
    const orphans = manifestFiles().filter((f) => !listed.has(f) && !STANDALONE_MANIFESTS.includes(f));
    expect(orphans).to.deep.equal([]);
  });

  it('overlays build on the base, and set a namespace', () => {
    for (const dir of EXPECTED_DIRS.filter((d) => d !== 'deploy/base')) {
      expect(resourcePaths(readKustomization(dir)), dir).to.include('deploy/base');
      expect(readKustomization(dir).doc.namespace, dir).to.be.a('string');
    }
  });

  it('keeps the production overlay free of Secrets (they come from a secret manager)', function () {
    if (!hasKubectl()) this.skip();
    this.timeout(30_000); // kubectl kustomize takes a few hundred ms per tree
    const kinds = kubectlBuild('deploy/overlays/production').map(kindOf);
    expect(kinds).to.not.include('Secret');
  });

  it('renders the production gateway with three replicas and the registry image', function () {
    if (!hasKubectl()) this.skip();
    this.timeout(30_000); // kubectl kustomize takes a few hundred ms per tree
    const deployment = kubectlBuild('deploy/overlays/production').find((m) => kindOf(m) === 'Deployment');
    expect(dig(deployment?.doc, 'spec.replicas')).to.equal(3);
    expect(JSON.stringify(deployment?.doc)).to.include('registry.example.com/tollgate:0.1.0');
  });
});
