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
});
