import { expect } from 'chai';
import { modelLabel } from '../../src/domain/request';
import { getModelFromRequest } from '../../src/envoy/request-model';
import { parseRequestTarget } from '../../src/envoy/route';

const CHAT = '/chat/completions';

describe('getModelFromRequest (litellm-auth.md §7.1)', () => {
  describe('from the body', () => {
    it('returns a single body model as a string', () => {
      expect(getModelFromRequest({ model: 'gpt-4o' }, CHAT)).to.equal('gpt-4o');
    });

    it('trims a single model name and treats a blank one as no model', () => {
      expect(getModelFromRequest({ model: ' gpt-4o\t' }, CHAT)).to.equal('gpt-4o');
      expect(getModelFromRequest({ model: '  ' }, CHAT)).to.equal(null);
      expect(getModelFromRequest({ model: '' }, '/openai/deployments/gpt-4/chat/completions')).to.equal('gpt-4');
    });

    it('splits a comma-separated model string and trims each name', () => {
      expect(getModelFromRequest({ model: 'gpt-4o, claude-3 ,gemini' }, CHAT)).to.deep.equal(['gpt-4o', 'claude-3', 'gemini']);
    });

    it('flattens a list of models, splitting its strings too', () => {
      expect(getModelFromRequest({ model: ['a', 'b,c'] }, CHAT)).to.deep.equal(['a', 'b', 'c']);
    });

    it('removes duplicates keeping first-seen order', () => {
      expect(getModelFromRequest({ model: 'b,a,b' }, CHAT)).to.deep.equal(['b', 'a']);
    });

    it('returns a string when duplicates collapse to one model', () => {
      expect(getModelFromRequest({ model: ['gpt-4o', 'gpt-4o'] }, CHAT)).to.equal('gpt-4o');
    });

    it("drops blank names, and names objects and nested lists by Python's str(), as LiteLLM's _append_model_candidates does", () => {
      expect(getModelFromRequest({ model: ['', ' , ', 'm'] }, CHAT)).to.equal('m');
      expect(getModelFromRequest({ model: ['', { x: 1 }, 'm'] }, CHAT)).to.deep.equal(["{'x': 1}", 'm']);
      expect(getModelFromRequest({ model: { a: 1 } }, CHAT)).to.equal("{'a': 1}");
      expect(getModelFromRequest({ model: [['secret']] }, CHAT)).to.equal("['secret']");
    });

    it('stringifies a numeric model like Python str()', () => {
      expect(getModelFromRequest({ model: 4 }, CHAT)).to.equal('4');
    });

    it('lets the body model win over the path (/openai/deployments/gpt-4 with body gpt-4o → gpt-4o)', () => {
      expect(getModelFromRequest({ model: 'gpt-4o' }, '/openai/deployments/gpt-4/chat/completions')).to.equal('gpt-4o');
    });

    it('reads target_model_names when the body names no model (newer LiteLLM)', () => {
      expect(getModelFromRequest({ target_model_names: 'gpt-4o,o3' }, '/v1/files')).to.deep.equal(['gpt-4o', 'o3']);
    });

    it('adds target_model_names to the model on files/batches/vector_stores routes', () => {
      expect(getModelFromRequest({ model: 'a', target_model_names: ['b'] }, '/v1/batches')).to.deep.equal(['a', 'b']);
      expect(getModelFromRequest({ model: 'a', target_model_names: ['b'] }, CHAT)).to.equal('a');
    });

    it('recognises those routes whatever their case', () => {
      expect(getModelFromRequest({ model: 'a', target_model_names: ['b'] }, '/v1/Batches')).to.deep.equal(['a', 'b']);
      expect(getModelFromRequest({ model: 'a', target_model_names: ['b'] }, '/V1/VECTOR_STORES/x')).to.deep.equal(['a', 'b']);
    });
  });

  describe('from the route when the body names none', () => {
    it('reads Azure-style /openai/deployments/{model}/…', () => {
      expect(getModelFromRequest(null, '/openai/deployments/gpt-35/chat/completions')).to.equal('gpt-35');
    });

    it('matches /openai/deployments only at the start of the route', () => {
      expect(getModelFromRequest(null, '/x/openai/deployments/gpt-35/chat')).to.equal(null);
    });

    it('reads Google /v1beta/models/{model}:generateContent', () => {
      expect(getModelFromRequest({}, '/v1beta/models/gemini-2.0-flash:generateContent')).to.equal('gemini-2.0-flash');
    });

    it('keeps "/" inside a Google model id (/beta/models/bedrock/claude-sonnet-3.7:…)', () => {
      expect(getModelFromRequest(null, '/gemini/beta/models/bedrock/claude-sonnet-3.7:streamGenerateContent')).to.equal(
        'bedrock/claude-sonnet-3.7',
      );
    });

    it('reads ^/models/{model}: ', () => {
      expect(getModelFromRequest(null, '/models/custom/ns/model:generateContent')).to.equal('custom/ns/model');
    });

    it('reads /vertex… /models/{model} up to the colon', () => {
      const route = '/vertex_ai/v1/projects/p/locations/l/publishers/google/models/gemini-1.5-pro:generateContent';
      expect(getModelFromRequest(null, route)).to.equal('gemini-1.5-pro');
    });

    it('does not apply the Google rules to /vertex routes (case-insensitive)', () => {
      expect(getModelFromRequest(null, '/Vertex_AI/v1beta/models/g')).to.equal('g');
    });

    it('returns null when nothing names a model (GET /v1/models)', () => {
      expect(getModelFromRequest(null, '/v1/models')).to.equal(null);
      expect(getModelFromRequest({ messages: [] }, CHAT)).to.equal(null);
    });
  });

  it('labels several models comma-joined', () => {
    expect(modelLabel(['a', 'b'])).to.equal('a,b');
    expect(modelLabel('a')).to.equal('a');
    expect(modelLabel(null)).to.equal(null);
  });

  describe('from the query and headers, on the routes LiteLLM reads them on', () => {
    const modelOf = (rawPath: string, headers: Record<string, string> = {}, body: Record<string, unknown> | null = null) => {
      const { route, query } = parseRequestTarget(rawPath, '');
      return getModelFromRequest(body as never, route, query, headers);
    };

    it("reads the query's model and x-litellm-model on files, batches, skills and evals", () => {
      expect(modelOf('/v1/files/file-abc/content?model=secret')).to.equal('secret');
      expect(modelOf('/v1/batches', { 'x-litellm-model': 'secret' })).to.equal('secret');
      expect(modelOf('/v1/skills?MODEL=a&MODEL=b'), 'any case; the last value').to.equal('b');
      expect(modelOf('/v1/files?model=a', { 'x-litellm-model': 'b,c' }, { model: 'x' })).to.deep.equal(['x', 'a', 'b', 'c']);
      expect(modelOf('/v1/chat/completions?model=secret', { 'x-litellm-model': 'secret' }), 'not elsewhere').to.equal(null);
    });

    it("reads the query's target_model_names on files, batches and fine_tuning, and completion.model on evals", () => {
      expect(modelOf('/v1/fine_tuning/jobs?target_model_names=a,b')).to.deep.equal(['a', 'b']);
      expect(modelOf('/v1/skills?target_model_names=a'), 'not on skills').to.equal(null);
      expect(modelOf('/v1/evals', {}, { completion: { model: 'judge' } })).to.equal('judge');
    });
  });

  describe("from LiteLLM's managed file, batch and video ids, last, on the routes LiteLLM reads them on", () => {
    const managedFile = (...models: string[]): string =>
      Buffer.from(`litellm_proxy:application/jsonl;unified_id,u-1;target_model_names,${models.join(',')};llm_output_file_id,f;llm_output_file_model_id,hash`).toString('base64url');
    const video = (modelId: string): string => `video_${Buffer.from(`litellm:custom_llm_provider:openai;model_id:${modelId};video_id:v`).toString('base64')}`;

    it('adds the models of a managed input file to the body model, after it (POST /v1/batches)', () => {
      expect(getModelFromRequest({ input_file_id: managedFile('gpt-4o-mini') }, '/v1/batches')).to.equal('gpt-4o-mini');
      expect(getModelFromRequest({ model: 'a', input_file_id: managedFile('b', 'a') }, '/v1/batches')).to.deep.equal(['a', 'b']);
    });

    it("reads every id field, in LiteLLM's order, after the query and the x-litellm-model header", () => {
      const { route, query } = parseRequestTarget('/v1/files?model=q', '');
      const body = { video_id: video('v'), file_id: managedFile('f'), batch_id: managedFile('b'), training_file: managedFile('t') };
      expect(getModelFromRequest(body, route, query, { 'x-litellm-model': 'h' })).to.deep.equal(['q', 'h', 'f', 'b', 't', 'v']);
    });

    it('resolves a video model id through the router, keeping the id the router does not know', () => {
      const router = (id: string): string | null => (id === 'dep-1' ? 'sora-2' : null);
      expect(getModelFromRequest({ video_id: video('dep-1') }, '/v1/videos/{video_id}', undefined, undefined, router)).to.equal('sora-2');
      expect(getModelFromRequest({ video_id: video('dep-9') }, '/v1/videos/x', undefined, undefined, router)).to.equal('dep-9');
    });

    it('reads no id off those routes, and no id that is not a string', () => {
      expect(getModelFromRequest({ file_id: managedFile('secret') }, CHAT)).to.equal(null);
      expect(getModelFromRequest({ model: 'm', file_id: managedFile('secret') }, CHAT)).to.equal('m');
      expect(getModelFromRequest({ file_id: [managedFile('secret')] }, '/v1/files')).to.equal(null);
    });

    it('lists every model of a managed id naming more than a spread fits, without throwing (a body within 1 MiB)', () => {
      const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
      const names = [...alphabet].flatMap((a) => [...alphabet].flatMap((b) => [...alphabet].map((c) => a + b + c))).slice(0, 150_000);
      const id = Buffer.from(`litellm_proxy:application/jsonl;unified_id,u-1;target_model_names,${names.join(',')}`).toString('base64url');
      expect(id.length).to.be.below(1024 * 1024);
      const models = getModelFromRequest({ file_id: id }, '/v1/files');
      expect(models).to.have.lengthOf(150_000);
    });

    it('finds no model in an id LiteLLM finds none in (a provider id, garbage), and never throws', () => {
      expect(getModelFromRequest({ file_id: 'file-abc123', batch_id: '%%%', video_id: 'video_!!' }, '/v1/batches')).to.equal(null);
    });
  });
});
