/**
 * Every Kubernetes/Istio manifest under deploy/ is checked against its schema with kubernetes-models
 * (not only parsed as YAML).
 */
import { expect } from 'chai';
import { validateWithModel } from './support/k8s-models';
import { manifestFiles, readManifests } from './support/manifests';

describe('deploy: Kubernetes manifests validate against their schemas', () => {
  const files = manifestFiles();

  it('finds the base, overlay and Istio manifests', () => {
    expect(files).to.include.members([
      'deploy/base/deployment.yaml',
      'deploy/base/service.yaml',
      'deploy/base/pdb.yaml',
      'deploy/base/migrate-job.yaml',
      'deploy/overlays/dev/secret.example.yaml',
      'deploy/istio/service-entry.yaml',
      'deploy/istio/authorization-policy.yaml',
      'deploy/istio/gateway.yaml',
      'deploy/istio/mesh-config.yaml',
    ]);
  });

  for (const file of files) {
    it(`${file} is valid`, () => {
      const manifests = readManifests(file);
      expect(manifests).to.have.length.greaterThan(0);
      for (const m of manifests) validateWithModel(m.doc);
    });
  }

  it('the schema check is real: it rejects a quoted containerPort and an unknown ServiceEntry resolution', () => {
    const deployment = readManifests('deploy/base/deployment.yaml')[0]?.doc;
    const broken = JSON.parse(JSON.stringify(deployment).replace('"containerPort":8080', '"containerPort":"8080"')) as unknown;
    expect(() => validateWithModel(broken)).to.throw(/containerPort/);
    const entry = readManifests('deploy/istio/service-entry.yaml')[0]?.doc;
    expect(() => validateWithModel({ ...entry, spec: { ...(entry?.spec as object), resolution: 'STATICALLY' } })).to.throw(/resolution/);
  });

  it('the example Secret holds only obvious placeholders', () => {
    for (const m of readManifests('deploy/overlays/dev/secret.example.yaml')) {
      const values = Object.values((m.doc.stringData ?? {}) as Record<string, unknown>).map(String);
      expect(values.filter((v) => v.includes('CHANGE-ME') || v.startsWith('redis://'))).to.have.length(values.length);
      expect(m.doc.data, 'no base64 data that could hide a real value').to.equal(undefined);
    }
  });
});
