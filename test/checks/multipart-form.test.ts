import { expect } from 'chai';
import { Authorizer } from '../../src/authorize/authorize';
import { hashKey } from '../../src/auth/key-hash';
import { multipartForm } from '../../src/checks/multipart-form';
import { MemoryStore } from '../support/memory-store';
import { aKey, aPolicy, aRequest, decide, NOW, RAW_KEY } from './fixtures';

const TOO_MANY_FIELDS = 'Too many fields. Maximum number of fields is 1000.';

describe("multipart form — Tollgate refuses a form Starlette would not read", () => {
  it('lets every other body through', () => {
    expect(decide(multipartForm, { request: { body: { model: 'whisper-1' } } })).to.equal(null);
    expect(decide(multipartForm, { request: { body: null, bodyInvalid: true } })).to.equal(null);
  });

  it("refuses with 400 bad_request_error and Starlette's message", () => {
    expect(decide(multipartForm, { request: { body: null, bodyInvalid: true, unreadableForm: TOO_MANY_FIELDS } })).to.deep.equal({
      status: 400,
      type: 'bad_request_error',
      message: TOO_MANY_FIELDS,
      param: null,
    });
  });

  it('refuses before any lookup, on routes that name no model too', async () => {
    const store = new MemoryStore();
    store.keys.set(hashKey(RAW_KEY), aKey({ token: hashKey(RAW_KEY) }));
    const authorizer = new Authorizer({ store, policy: aPolicy(), masterKey: 'sk-master-0000', now: () => NOW });
    const request = aRequest({ route: '/v1/images/edits', body: null, bodyInvalid: true, unreadableForm: TOO_MANY_FIELDS, model: null });
    const outcome = await authorizer.authorize(request);
    expect(outcome).to.deep.include({ refusedBy: 'multipart_form' });
    expect(store.calls).to.deep.equal([]);
  });
});
