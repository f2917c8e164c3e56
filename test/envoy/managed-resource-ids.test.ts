/**
 * The models LiteLLM decodes from its managed ids (auth_utils._extract_models_from_managed_resource_id).
 * Every expected list here is what LiteLLM's Python returns for the same id and field.
 */
import { expect } from 'chai';
import { managedIdInPath, modelsFromManagedResourceId, type ModelIdResolver } from '../../src/envoy/managed-resource-ids';

/** `base64.urlsafe_b64encode(s.encode()).decode().rstrip("=")`: how LiteLLM writes its managed file, batch and unified ids. */
const managed = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');
/** `base64.b64encode(...)`, padding kept: how LiteLLM writes video and character ids. */
const standard = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

const MANAGED_FILE =
  'litellm_proxy:application/octet-stream;unified_id,c4843482-b176-4901-8292-7523fd0f2c6e;target_model_names,gpt-4o-mini, gemini-2.0-flash;llm_output_file_id,file-abc;llm_output_file_model_id,8d0eaa7e';
const VIDEO = 'video_' + standard('litellm:custom_llm_provider:openai;model_id:sora-deploy-1;video_id:video_abc');
const CHARACTER = 'character_' + standard('litellm:custom_llm_provider:vertex_ai;model_id:veo-3.1-generate-001;character_id:char_1');

describe('modelsFromManagedResourceId (LiteLLM _extract_models_from_managed_resource_id)', () => {
  const cases: ReadonlyArray<{ readonly name: string; readonly id: unknown; readonly field: string; readonly models: readonly string[] }> = [
    { name: "a managed file id: its target_model_names, never the deployment hash of llm_output_file_model_id", id: managed(MANAGED_FILE), field: 'input_file_id', models: ['gpt-4o-mini', 'gemini-2.0-flash'] },
    { name: 'a managed file id with its base64 padding kept', id: Buffer.from(MANAGED_FILE).toString('base64').replace(/\+/g, '-').replace(/\//g, '_'), field: 'file_id', models: ['gpt-4o-mini', 'gemini-2.0-flash'] },
    { name: 'a managed batch id: the deployment id after model_id:', id: managed('litellm_proxy;model_id:dep-123;llm_batch_id:batch_abc;llm_output_file_id:file-x'), field: 'batch_id', models: ['dep-123'] },
    { name: 'a unified vector store id: target_model_names (file decoder) then model_id (parse_unified_id)', id: managed('litellm_proxy:vector_store;unified_id,abc-123;target_model_names,gpt-4,gemini;resource_id,vs_xyz;model_id,real-model-id-123'), field: 'vector_store_id', models: ['gpt-4', 'gemini', 'real-model-id-123'] },
    { name: 'a unified id sent already decoded: model_id, then target_model_names', id: 'litellm_proxy:vector_store;unified_id,u;target_model_names,gpt-4;model_id,m-1', field: 'vector_store_id', models: ['m-1', 'gpt-4'] },
    { name: 'a model-embedded file id (file- prefix)', id: 'file-' + managed('litellm:file-abc123;model,gpt-4o-litellm'), field: 'file_id', models: ['gpt-4o-litellm'] },
    { name: 'a model-embedded batch id (batch_ prefix)', id: 'batch_' + managed('litellm:batch_abc;model,claude-3'), field: 'batch_id', models: ['claude-3'] },
    { name: 'a model-embedded id without a prefix, its model stripped', id: managed('litellm:x;model, spaced-model ;more'), field: 'output_file_id', models: ['spaced-model'] },
    { name: 'a video id: its model id, as it is without a router', id: VIDEO, field: 'video_id', models: ['sora-deploy-1'] },
    { name: 'a video id copied without its padding', id: VIDEO.replace(/=+$/, ''), field: 'video_id', models: ['sora-deploy-1'] },
    { name: 'a character id', id: CHARACTER, field: 'character_id', models: ['veo-3.1-generate-001'] },
    { name: 'a character id with character_ inside it too (str.replace removes every one)', id: 'character_' + standard('p;model_id:m;c').replace(/=+$/, '') + 'character_', field: 'character_id', models: ['m'] },
    { name: 'a video id in a field other than video_id: not decoded as a video', id: VIDEO, field: 'file_id', models: [] },
    { name: 'a causyn_ video id: causyn-1-0', id: 'causyn_abc', field: 'video_id', models: ['causyn-1-0'] },
    { name: 'an opaque video_v2_ id: left to its provider codec, no model', id: 'video_v2_' + standard('a;model_id:x;b'), field: 'video_id', models: [] },
    { name: 'a video id of two parts: no model', id: 'video_' + standard('a;b'), field: 'video_id', models: [] },
    { name: 'a video id without a separator: no model', id: 'video_' + standard('abc'), field: 'video_id', models: [] },
    { name: 'a video id with an empty model id: no model', id: 'video_' + standard('litellm:custom_llm_provider:openai;model_id:;video_id:v'), field: 'video_id', models: [] },
    { name: 'a video model id naming two models, split on the comma', id: 'video_' + standard('p;model_id:a, b;v'), field: 'video_id', models: ['a', 'b'] },
    { name: 'a non-ASCII character in a video id: skipped, as b64decode of its UTF-8 bytes skips it', id: `video_${standard('p;model_id:m;v').slice(0, 4)}é${standard('p;model_id:m;v').slice(4)}`, field: 'video_id', models: ['m'] },
    { name: 'characters outside the alphabet: skipped', id: [...managed('litellm_proxy:x;target_model_names,skip-me')].join('.'), field: 'file_id', models: ['skip-me'] },
    { name: "Python's whitespace stripped (U+001C), a BOM kept", id: managed('litellm_proxy:x;target_model_names,\u001cA\u001c,\ufeffB'), field: 'file_id', models: ['A', '\ufeffB'] },
    { name: 'a provider file id: no model', id: 'file-abc123', field: 'file_id', models: [] },
    { name: 'a provider batch id: no model', id: 'batch_6720a1b2c3', field: 'batch_id', models: [] },
    { name: 'an id that is not base64: no model', id: '!!!***', field: 'file_id', models: [] },
    { name: 'an id one data character past a multiple of four: no model', id: 'abcde', field: 'file_id', models: [] },
    { name: 'a non-ASCII character in a managed id: urlsafe_b64decode refuses it, no model', id: 'bGl0ZWxsbTp4O21vZGVsLGE\u00e9', field: 'file_id', models: [] },
    { name: 'bytes that are not UTF-8 once decoded: no model', id: managed('litellm:x;model,') + '_w', field: 'file_id', models: [] },
    { name: 'a decoded id without the litellm_proxy prefix: no model', id: managed('something;target_model_names,gpt-4o'), field: 'file_id', models: [] },
    { name: 'a lone surrogate in a video id: no model', id: 'video_\ud800' + standard('p;model_id:m;v'), field: 'video_id', models: [] },
    { name: 'an empty id', id: '', field: 'file_id', models: [] },
    { name: 'an id that is not a string', id: 42, field: 'file_id', models: [] },
  ];

  for (const { name, id, field, models } of cases) {
    it(`reads ${name}`, () => {
      expect(modelsFromManagedResourceId(id, field, null)).to.deep.equal(models);
    });
  }

  it('never throws, whatever the id', () => {
    const hostile = ['=', '====', 'file-', 'batch_', 'video_', 'character_', 'video_====', '\u0000', 'a'.repeat(10_000), '\ud800\udc00', 'litellm_proxy:', 'litellm_proxy:;;;,,,'];
    for (const id of hostile) {
      for (const field of ['file_id', 'video_id', 'character_id']) expect(() => modelsFromManagedResourceId(id, field, null), id).not.to.throw();
    }
  });

  describe("a video or character model id goes through the router (_resolve_model_id_with_router)", () => {
    const router: ModelIdResolver = (id) => (id === 'sora-deploy-1' || id === 'veo-3.1-generate-001' ? 'video-group' : null);

    it('becomes the model group the router names for it', () => {
      expect(modelsFromManagedResourceId(VIDEO, 'video_id', router)).to.deep.equal(['video-group']);
      expect(modelsFromManagedResourceId(CHARACTER, 'character_id', router)).to.deep.equal(['video-group']);
    });

    it('stays the id itself when the router does not know it', () => {
      expect(modelsFromManagedResourceId('video_' + standard('p;model_id:unknown-id;v'), 'video_id', router)).to.deep.equal(['unknown-id']);
    });

    it('leaves the model ids of managed file, batch and unified ids unresolved, as LiteLLM does', () => {
      const resolveAll: ModelIdResolver = () => 'resolved';
      expect(modelsFromManagedResourceId(managed('litellm_proxy;model_id:dep-123;llm_batch_id:b'), 'batch_id', resolveAll)).to.deep.equal(['dep-123']);
    });
  });
});

describe('managedIdInPath (the path parameters populate_request_with_path_params copies)', () => {
  const cases: ReadonlyArray<readonly [string, readonly [string, string] | null]> = [
    ['/v1/files/file-abc', ['file_id', 'file-abc']],
    ['/files/file-abc/content', ['file_id', 'file-abc']],
    ['/openai/v1/files/file-abc', ['file_id', 'file-abc']],
    ['/v1/vector_stores/vs_1/files/file-abc', ['file_id', 'file-abc']],
    ['/v1/containers/c_1/files/file-abc/content', ['file_id', 'file-abc']],
    ['/v1/batches/batch_1', ['batch_id', 'batch_1']],
    ['/batches/batch_1/cancel', ['batch_id', 'batch_1']],
    ['/v1/fine_tuning/jobs/ftjob-1/cancel', ['fine_tuning_job_id', 'ftjob-1']],
    ['/v1/videos/video_x', ['video_id', 'video_x']],
    ['/videos/video_x/content', ['video_id', 'video_x']],
    ['/v1/videos/video_x/remix', ['video_id', 'video_x']],
    ['/v1/videos/characters/character_x', ['character_id', 'character_x']],
    ['/v1/files', null],
    ['/v1/batches', null],
    ['/v1/files/a/b/c', null],
    ['/chat/completions', null],
  ];
  for (const [route, expected] of cases) {
    it(`reads ${route} as ${expected === null ? 'no managed id' : expected.join(' = ')}`, () => {
      expect(managedIdInPath(route)).to.deep.equal(expected);
    });
  }
});
