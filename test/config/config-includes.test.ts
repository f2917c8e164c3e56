import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, isWrittenAsFloat, loadLiteLlmConfig, parseLiteLlmConfig } from '../../src/config/litellm-config';
import { MAX_INCLUDED_FILES } from '../../src/config/config-includes';

/** `include:` as LiteLLM's ProxyConfig._process_includes merges it. */
describe('config: include (other YAML files merged into the config)', () => {
  let dir: string;
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const load = (main: string, env: NodeJS.ProcessEnv = {}) => loadLiteLlmConfig(write('config.yaml', main), env);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-include-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("appends an included file's model_list to the config's, in include order", () => {
    write('models-a.yaml', 'model_list:\n  - model_name: b\n    litellm_params: { model: openai/b }\n');
    write('models-b.yaml', 'model_list:\n  - model_name: c\n    litellm_params: { model: openai/c }\n');
    const config = load('include:\n  - models-a.yaml\n  - models-b.yaml\nmodel_list:\n  - model_name: a\n    litellm_params: { model: openai/a }\n');
    expect(config.model_list?.map((m) => m.model_name)).to.deep.equal(['a', 'b', 'c']);
    expect(config).to.not.have.property('include');
  });

  it('takes the model_list of an included file when the config has none', () => {
    write('models.yaml', 'model_list:\n  - model_name: only\n    litellm_params: { model: openai/only }\n');
    expect(load('include: [models.yaml]\n').model_list?.map((m) => m.model_name)).to.deep.equal(['only']);
  });

  it("replaces a whole section an included file sets (LiteLLM does not merge into it): the included general_settings wins, the config's other keys in it are gone", () => {
    write('settings.yaml', 'general_settings:\n  master_key: sk-included\n');
    const config = load('include: [settings.yaml]\ngeneral_settings:\n  master_key: sk-main\n  enforce_user_param: true\n');
    expect(config.general_settings?.master_key).to.equal('sk-included');
    expect(config.general_settings?.enforce_user_param).to.equal(undefined);
  });

  it("reads an included file's own include list too, relative to the main config's directory", () => {
    mkdirSync(join(dir, 'sub'));
    write('sub/first.yaml', 'include: [second.yaml]\nmodel_list:\n  - model_name: first\n');
    write('second.yaml', 'model_list:\n  - model_name: second\n');
    expect(load('include: [sub/first.yaml]\nmodel_list: []\n').model_list?.map((m) => m.model_name)).to.deep.equal(['first', 'second']);
  });

  it('resolves os.environ/ references in included files, and reads an empty included file as nothing', () => {
    write('settings.yaml', 'general_settings:\n  master_key: os.environ/MY_MASTER\n');
    write('empty.yaml', '');
    expect(load('include: [settings.yaml, empty.yaml]\n', { MY_MASTER: 'sk-from-env' }).general_settings?.master_key).to.equal('sk-from-env');
  });

  it('gives included deployments the ids a single file would: generated from PyYAML values, an int id as its str()', () => {
    const entries = 'model_list:\n  - model_name: gen\n    litellm_params: { model: openai/gpt-4o, rpm: 100, temperature: 0.1 }\n  - model_name: int-id\n    litellm_params: { model: openai/x }\n    model_info: { id: 5 }\n';
    const single = parseLiteLlmConfig(entries, {});
    write('models.yaml', entries);
    const split = load('include: [models.yaml]\nmodel_list:\n  - model_name: main\n    litellm_params: { model: openai/main }\n');
    const idOf = (config: typeof single, name: string) => config.model_list?.find((m) => m.model_name === name)?.model_info?.id;
    expect(idOf(single, 'gen')).to.be.a('string').and.have.length(64);
    expect(idOf(split, 'gen')).to.equal(idOf(single, 'gen'));
    expect(idOf(split, 'int-id')).to.equal('5');
    expect(idOf(split, 'main')).to.be.a('string').and.have.length(64);
  });

  it('keeps how an included file wrote a printed number (100.0 against 100)', () => {
    write('budget.yaml', 'litellm_settings:\n  max_budget: 100.0\n');
    const config = load('include: [budget.yaml]\nlitellm_settings:\n  max_budget: 100\n');
    expect(config.litellm_settings?.max_budget).to.equal(100);
    expect(isWrittenAsFloat(config, 'litellm_settings.max_budget')).to.equal(true);
  });

  it("gives ids to the deployments of a model_list another key aliases, when an include appends to that key (one list in PyYAML's objects too)", () => {
    const a = '  - model_name: a\n    litellm_params: { model: openai/a, rpm: 1 }\n';
    const b = '  - model_name: b\n    litellm_params: { model: openai/b, temperature: 0.5 }\n';
    const single = parseLiteLlmConfig(`model_list:\n${a}${b}`, {});
    write('more.yaml', `shared:\n${b}`);
    const split = load(`shared: &models\n${a}model_list: *models\ninclude: [more.yaml]\n`);
    const ids = (config: typeof single) => config.model_list?.map((m) => m.model_info?.id);
    expect(ids(single)).to.have.length(2).and.not.include(undefined);
    expect(ids(split)).to.deep.equal(ids(single));
  });

  it('appends an included list of 200,000 entries (passing them as arguments would overflow the stack)', () => {
    write('long.yaml', `fallbacks: [${new Array<string>(200_000).fill('0').join(',')}]\n`);
    expect((load('include: [long.yaml]\nfallbacks: [1]\n') as { fallbacks?: unknown[] }).fallbacks).to.have.length(200_001);
  });

  it("joins an include path to the main file's directory as os.path.join does: link/../x.yaml is the x.yaml beside the link's target", () => {
    mkdirSync(join(dir, 'conf'));
    mkdirSync(join(dir, 'elsewhere', 'deep'), { recursive: true });
    symlinkSync(join(dir, 'elsewhere', 'deep'), join(dir, 'conf', 'link'));
    write('elsewhere/x.yaml', 'model_list:\n  - model_name: beside-the-target\n');
    write('conf/x.yaml', 'model_list:\n  - model_name: beside-the-link\n');
    const config = loadLiteLlmConfig(write('conf/config.yaml', 'include: [link/../x.yaml]\nmodel_list: []\n'), {});
    expect(config.model_list?.map((m) => m.model_name)).to.deep.equal(['beside-the-target']);
  });

  it("adds an included list under a key the config does not have, even one named like an Object method (toString, constructor)", () => {
    write('odd.yaml', 'toString: [a]\nconstructor: [b]\n');
    const config = load('include: [odd.yaml]\n') as Record<string, unknown>;
    expect(Object.hasOwn(config, 'toString') && config.toString).to.deep.equal(['a']);
    expect(Object.hasOwn(config, 'constructor') && config.constructor).to.deep.equal(['b']);
  });

  it('reads a config split one file per deployment, 150 of them', () => {
    const names = Array.from({ length: 150 }, (_, i) => `m${i}`);
    for (const name of names) write(`${name}.yaml`, `model_list:\n  - model_name: ${name}\n`);
    expect(load(`include: [${names.map((n) => `${n}.yaml`).join(', ')}]\n`).model_list?.map((m) => m.model_name)).to.deep.equal(names);
  });

  it('reads a file included twice side by side twice, its list appended twice, as LiteLLM does (no loop)', () => {
    write('shared.yaml', 'model_list:\n  - model_name: s\n');
    write('a.yaml', 'include: [shared.yaml]\n');
    expect(load('include: [a.yaml, shared.yaml]\n').model_list?.map((m) => m.model_name)).to.deep.equal(['s', 's']);
  });

  describe('refuses at startup, naming the file, where LiteLLM fails to start', () => {
    const refusal = (main: string): string => {
      try {
        load(main);
      } catch (error) {
        expect(error).to.be.instanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error('loaded');
    };

    it('include that is not a list, or an entry that is not a path', () => {
      expect(refusal('include: models.yaml\n')).to.include("'include' must be a list of file paths");
      expect(refusal('include: [1]\n')).to.include("'include' entry 1 is not a file path");
    });

    it('a missing or unparsable included file', () => {
      expect(refusal('include: [missing.yaml]\n')).to.include(join(dir, 'missing.yaml'));
      write('broken.yaml', 'model_list: [\n');
      expect(refusal('include: [broken.yaml]\n')).to.include(`${join(dir, 'broken.yaml')}: not valid YAML`);
    });

    it('an included file that is not a mapping', () => {
      write('list.yaml', '- model_name: a\n');
      expect(refusal('include: [list.yaml]\n')).to.include(`${join(dir, 'list.yaml')}: an included file must be a mapping`);
    });

    it("a list to append to a key of the config that is not a list (LiteLLM's extend fails)", () => {
      write('models.yaml', 'model_list:\n  - model_name: a\n');
      expect(refusal('include: [models.yaml]\nmodel_list:\n')).to.include("'model_list' is a list, but the config's 'model_list' is not");
    });

    it('a file that includes itself, under any spelling (LiteLLM would read it for ever)', () => {
      write('loop.yaml', 'include: [./loop.yaml]\n');
      expect(refusal('include: [loop.yaml]\n')).to.include(`${dir}/./loop.yaml: included again through its own includes`);
    });

    it('a loop through several files, or back to the main file', () => {
      write('a.yaml', 'include: [b.yaml]\n');
      write('b.yaml', 'include: [a.yaml]\n');
      expect(refusal('include: [a.yaml]\n')).to.include(`${join(dir, 'a.yaml')}: included again`);
      write('back.yaml', 'include: [config.yaml]\n');
      expect(refusal('include: [back.yaml]\n')).to.include(`${join(dir, 'config.yaml')}: included again`);
    });

    it(`includes that multiply without looping, past ${MAX_INCLUDED_FILES} files read`, () => {
      for (let level = 0; level < 14; level += 1) write(`l${level}.yaml`, `include: [l${level + 1}.yaml, l${level + 1}.yaml]\n`);
      write('l14.yaml', 'model_list: []\n');
      expect(refusal('include: [l0.yaml]\n')).to.include(`reads more than ${MAX_INCLUDED_FILES} files`);
    });
  });
});
