import { expect } from 'chai';
import { rejectClientsideMetadataTags } from '../../src/checks/clientside-metadata-tags';
import { decide } from './fixtures';

describe('reject_clientside_metadata_tags — §4 step 6b', () => {
  const policy = { rejectClientsideMetadataTags: true };

  it('denies metadata.tags on an LLM route (400 bad_request_error, param metadata.tags)', () => {
    expect(decide(rejectClientsideMetadataTags, { policy, request: { body: { metadata: { tags: ['a'] } } } })).to.deep.equal({
      status: 400,
      type: 'bad_request_error',
      message:
        "Client-side 'metadata.tags' not allowed in request. 'reject_clientside_metadata_tags'=True. Tags can only be set via API key metadata.",
      param: 'metadata.tags',
    });
  });

  it('allows top-level tags and metadata without tags', () => {
    expect(decide(rejectClientsideMetadataTags, { policy, request: { body: { tags: ['a'] } } })).to.equal(null);
    expect(decide(rejectClientsideMetadataTags, { policy, request: { body: { metadata: {} } } })).to.equal(null);
  });

  it('denies x-litellm-tags header tags on a route whose tags live in metadata: newer LiteLLM merges them into metadata.tags before common_checks', () => {
    const tagged = { 'x-litellm-tags': 'team-a, env:prod' };
    const denial = decide(rejectClientsideMetadataTags, { policy, request: { route: '/v1/chat/completions', headers: tagged, body: { model: 'gpt-4o' } } });
    expect(denial?.param).to.equal('metadata.tags');
    expect(decide(rejectClientsideMetadataTags, { policy, request: { route: '/v1/chat/completions', headers: tagged, body: { metadata: '{"a":1}' } } }), 'a JSON-string metadata is parsed to take them').to.not.equal(null);
  });

  it('allows header tags that land in litellm_metadata, and a header with no tag in it', () => {
    const tagged = { 'x-litellm-tags': 'team-a' };
    expect(decide(rejectClientsideMetadataTags, { policy, request: { route: '/v1/messages', headers: tagged, body: {} } })).to.equal(null);
    expect(decide(rejectClientsideMetadataTags, { policy, request: { route: '/v1/chat/completions', headers: tagged, body: { litellm_metadata: {} } } })).to.equal(null);
    expect(decide(rejectClientsideMetadataTags, { policy, request: { route: '/v1/chat/completions', headers: { 'x-litellm-tags': ' , ' }, body: {} } })).to.equal(null);
  });
});
