/**
 * Docker cannot build here, so the Dockerfile is linted by reading it: a multi-stage build whose
 * final image has no compilers, no dev dependencies and no sources, runs as a non-root user and
 * starts `tollgate serve`.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { ancestry, copies, dockerignorePatterns, execForm, isIgnored, stages, type Stage } from './support/dockerfile';
import { asObject } from './support/json';
import { readRepoText, repoFileExists, repoPath } from './support/repo';

const dockerfile = () => readRepoText('Dockerfile');
const all = () => stages(dockerfile());
const stage = (name: string): Stage => {
  const found = all().find((s) => s.name === name);
  if (!found) throw new Error(`no stage ${name}`);
  return found;
};
const final = (): Stage => {
  const last = all()[all().length - 1];
  if (!last) throw new Error('no stages');
  return last;
};
const runs = (s: Stage): string[] => s.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
const last = (s: Stage, keyword: string): string | undefined => s.instructions.filter((i) => i.keyword === keyword).pop()?.args;

describe('deploy: Dockerfile', () => {
  it('has build, prod-deps and a final runtime stage', () => {
    expect(all().map((s) => s.name)).to.include.members(['build', 'prod-deps', 'runtime']);
    expect(final().name).to.equal('runtime');
  });

  it('builds with the dev dependencies: npm ci, then npm run build', () => {
    const commands = ancestry(all(), stage('build')).flatMap(runs).join('\n');
    expect(commands).to.match(/npm ci(?!\s+--omit)/);
    expect(runs(stage('build')).join('\n')).to.include('npm run build');
    const scripts = asObject(asObject(JSON.parse(readFileSync(repoPath('package.json'), 'utf8')), 'package.json').scripts, 'scripts');
    expect(scripts.build, 'package.json has a build script').to.be.a('string');
  });

  it('installs production dependencies with npm ci --omit=dev', () => {
    expect(runs(stage('prod-deps')).join('\n')).to.include('npm ci --omit=dev');
  });

  it('has python3, make and g++ wherever npm ci runs (better-sqlite3 is native)', () => {
    for (const name of ['build', 'prod-deps']) {
      const commands = ancestry(all(), stage(name)).flatMap(runs).join('\n');
      for (const tool of ['python3', 'make', 'g++']) expect(commands, `${name}: ${tool}`).to.include(tool);
    }
  });

  it('starts the final stage from a clean Node 20 slim image, not from a build stage', () => {
    expect(final().from).to.match(/^node:20[\w.-]*slim$/);
    expect(all().map((s) => s.name)).to.not.include(final().from);
    for (const s of all()) expect(s.from, `${s.name} base`).to.satisfy((f: string) => f.startsWith('node:20') || all().some((x) => x.name === f));
  });

  it('puts no dev dependencies, compilers or sources in the final image', () => {
    expect(runs(final()).join('\n')).to.not.match(/npm (ci|install|i)\b|apt-get install/);
    const copied = copies(final());
    for (const copy of copied.filter((c) => c.from !== undefined)) {
      expect(['prod-deps', 'build'], `COPY --from=${String(copy.from)}`).to.include(copy.from);
      if (copy.from === 'build') expect(copy.sources).to.deep.equal(['/app/dist']);
      if (copy.from === 'prod-deps') expect(copy.sources).to.deep.equal(['/app/node_modules']);
    }
    const fromContext = copied.filter((c) => c.from === undefined).flatMap((c) => c.sources);
    expect(fromContext).to.have.members(['bin', 'package.json', 'package-lock.json']);
  });

  it('copies only files that exist and that .dockerignore lets through', () => {
    const ignore = dockerignorePatterns(readRepoText('.dockerignore'));
    for (const source of all().flatMap(copies).filter((c) => c.from === undefined).flatMap((c) => c.sources)) {
      expect(repoFileExists(source), `${source} exists`).to.equal(true);
      expect(isIgnored(ignore, source), `${source} not ignored`).to.equal(false);
    }
    for (const excluded of ['node_modules', 'dist', '.git', 'test', '.tollgate/tollgate.db', '.env']) {
      expect(isIgnored(ignore, excluded), `${excluded} ignored`).to.equal(true);
    }
  });

  it('runs as a non-root user, set before the entrypoint', () => {
    const user = last(final(), 'USER');
    expect(user, 'USER in the final stage').to.be.a('string');
    expect(String(user).split(':')[0]).to.not.match(/^(root|0)$/);
    expect(String(user), 'numeric, so runAsNonRoot can verify it').to.match(/^\d+(:\d+)?$/);
    const keywords = final().instructions.map((i) => i.keyword);
    expect(keywords.lastIndexOf('USER')).to.be.lessThan(keywords.indexOf('ENTRYPOINT'));
    expect(keywords.slice(keywords.lastIndexOf('USER')), 'nothing runs as root after USER').to.not.include('RUN');
  });

  it('exposes 9001 and 9002 and starts `tollgate serve` through bin/tollgate.js', () => {
    expect(String(last(final(), 'EXPOSE')).split(/\s+/)).to.have.members(['9001', '9002']);
    expect(execForm(String(last(final(), 'ENTRYPOINT')))).to.deep.equal(['node', 'bin/tollgate.js']);
    expect(execForm(String(last(final(), 'CMD')))).to.deep.equal(['serve']);
    expect(repoFileExists('bin/tollgate.js')).to.equal(true);
    expect(readRepoText('bin/tollgate.js')).to.include('../dist/');
  });

  it('has a HEALTHCHECK whose node one-liner is valid JavaScript', () => {
    const healthcheck = String(last(final(), 'HEALTHCHECK'));
    const command = execForm(healthcheck.slice(healthcheck.indexOf('CMD') + 3).trim());
    expect(command?.slice(0, 2)).to.deep.equal(['node', '-e']);
    // Parses without running it.
    expect(() => new Function(String(command?.[2]))).to.not.throw();
    expect(String(command?.[2])).to.include('/healthz');
  });
});
