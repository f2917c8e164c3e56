/**
 * Every Envoy bootstrap in the repository decodes, strictly, into Envoy's own
 * envoy.config.bootstrap.v3.Bootstrap message, with every typed_config Any resolved to its
 * concrete extension type and verified the same way (see support/proto-json.ts).
 */
import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';
import {
  EXT_AUTHZ,
  EXT_AUTHZ_PER_ROUTE,
  FILE_ACCESS_LOG,
  HCM,
  HTTP_PROTOCOL_OPTIONS,
  ROUTER,
  UPSTREAM_TLS,
  BOOTSTRAP,
  decodeEnvoyFile,
  envoyConfigFiles,
} from './support/envoy-config';
import { envoyRoot } from './support/envoy-protos';
import { hasKubectl, kubectlBuild, kustomizationDirs, dataOf } from './support/kustomize';
import { decodeProtoJson } from './support/proto-json';

describe('deploy: Envoy configs decode as Envoy protos', () => {
  const files = envoyConfigFiles();

  it('finds the front proxy and the Kubernetes sidecar config', () => {
    expect(files).to.include.members(['envoy/front-proxy.yaml', 'deploy/base/envoy.yaml']);
  });

  for (const file of files) {
    it(`${file} is a valid Bootstrap (no unknown fields, wrong types, deprecated fields or PGV violations)`, () => {
      const decoded = decodeEnvoyFile(file);
      expect(decoded.anyTypes).to.include(HCM);
      expect(decoded.anyTypes).to.include(EXT_AUTHZ);
    });
  }

  it('resolves every extension type the configs use to its concrete message', () => {
    const used = new Set(files.flatMap((file) => [...decodeEnvoyFile(file).anyTypes]));
    for (const type of [HCM, EXT_AUTHZ, EXT_AUTHZ_PER_ROUTE, ROUTER, HTTP_PROTOCOL_OPTIONS, UPSTREAM_TLS, FILE_ACCESS_LOG]) {
      expect(used, type).to.include(type);
    }
  });

  it('also decodes the Envoy config as kustomize renders it into each ConfigMap', function () {
    if (!hasKubectl()) this.skip();
    this.timeout(30_000); // kubectl kustomize takes a few hundred ms per tree
    for (const dir of kustomizationDirs()) {
      for (const m of kubectlBuild(dir).filter((x) => x.doc.kind === 'ConfigMap')) {
        const text = dataOf(m).get('envoy.yaml');
        if (text !== undefined) expect(() => decodeProtoJson(envoyRoot(), BOOTSTRAP, parseYaml(text)), dir).to.not.throw();
      }
    }
  });
});
