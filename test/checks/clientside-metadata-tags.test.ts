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
});
