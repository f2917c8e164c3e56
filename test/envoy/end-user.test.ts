import { expect } from 'chai';
import { getEndUserId } from '../../src/envoy/end-user';
import type { Json } from '../../src/domain/entities';
import { edgeSettings } from './fixtures';

const none = edgeSettings();

describe('getEndUserId (litellm-auth.md §7.2)', () => {
  describe('headers', () => {
    it('reads x-litellm-customer-id first', () => {
      const headers = { 'x-litellm-customer-id': 'cust-1', 'x-litellm-end-user-id': 'eu-1' };
      expect(getEndUserId(headers, { user: 'body-user' }, none)).to.equal('cust-1');
    });

    it('reads x-litellm-end-user-id next', () => {
      expect(getEndUserId({ 'x-litellm-end-user-id': 'eu-1' }, { user: 'body-user' }, none)).to.equal('eu-1');
    });

    it('ignores blank standard headers', () => {
      expect(getEndUserId({ 'x-litellm-customer-id': '  ', 'x-litellm-end-user-id': 'eu-1' }, null, none)).to.equal('eu-1');
    });

    it('reads headers mapped to the customer role, in order, before the body', () => {
      const settings = edgeSettings({ customerHeaderMappings: ['x-tenant-user', 'x-customer'], userHeaderName: 'x-legacy' });
      const headers = { 'x-customer': 'c-2', 'x-legacy': 'legacy' };
      expect(getEndUserId(headers, { user: 'body-user' }, settings)).to.equal('c-2');
    });

    it('ignores the deprecated user_header_name when customer mappings exist', () => {
      const settings = edgeSettings({ customerHeaderMappings: ['x-customer'], userHeaderName: 'x-legacy' });
      expect(getEndUserId({ 'x-legacy': 'legacy' }, { user: 'body-user' }, settings)).to.equal('body-user');
    });

    it('falls back to the deprecated user_header_name', () => {
      expect(getEndUserId({ 'x-legacy': 'legacy' }, { user: 'body-user' }, edgeSettings({ userHeaderName: 'x-legacy' }))).to.equal(
        'legacy',
      );
    });

    it('lets the standard headers beat configured ones', () => {
      const settings = edgeSettings({ userHeaderName: 'x-legacy' });
      expect(getEndUserId({ 'x-legacy': 'legacy', 'x-litellm-end-user-id': 'eu' }, null, settings)).to.equal('eu');
    });
  });

  describe('body', () => {
    it('reads body.user (OpenAI)', () => {
      expect(getEndUserId({}, { user: 'u-1', metadata: { user_id: 'm' } }, none)).to.equal('u-1');
    });

    it('stringifies a numeric body.user like Python str()', () => {
      expect(getEndUserId({}, { user: 42 }, none)).to.equal('42');
    });

    it('names a numeric body.user by the literal the body wrote: every digit of a big int, a float as repr()', () => {
      expect(getEndUserId({}, { user: Number('1234567890123456789') }, none, { user: '1234567890123456789' })).to.equal('1234567890123456789');
      expect(getEndUserId({}, { user: 1 }, none, { user: '1.0' })).to.equal('1.0');
      expect(getEndUserId({}, { user: 1e16 }, none, { user: '1e16' })).to.equal('1e+16');
      expect(getEndUserId({}, { user: 0 }, none, { user: '-0' })).to.equal('0');
    });

    // The newest LiteLLM's _coerce_user_id_to_str: a string stripped, a blank string, a boolean, an
    // object or a list names nobody and the next source is read (TestGetEndUserIdDropsMalformedBodyValues).
    const coerced: ReadonlyArray<readonly [string, Readonly<Record<string, Json>>, string | null]> = [
      ['an object in body.user falls through to litellm_metadata.user', { user: { device_id: 'abc' }, litellm_metadata: { user: 'alice' } }, 'alice'],
      ['a list in body.user falls through to safety_identifier', { user: ['a', 'b'], safety_identifier: 'alice' }, 'alice'],
      ['true in body.user falls through to metadata.user_id', { user: true, metadata: { user_id: 'm' } }, 'm'],
      ['false in body.user names nobody, never "False"', { user: false }, null],
      ['an object in litellm_metadata.user falls through', { litellm_metadata: { user: { team: 't' } }, metadata: { user_id: 'm' } }, 'm'],
      ['a list in metadata.user_id falls through', { metadata: { user_id: ['a'] }, safety_identifier: 's' }, 's'],
      ['an object in safety_identifier names nobody', { safety_identifier: { id: 1 } }, null],
      ['an empty body.user falls through', { user: '', metadata: { user_id: 'm' } }, 'm'],
      ['a whitespace body.user falls through', { user: ' \t ', safety_identifier: 's' }, 's'],
      ['body.user is stripped as str.strip() does', { user: '  bob \n' }, 'bob'],
      ['U+0085 and U+001F are stripped, as Python counts them whitespace', { user: '\u0085bob\u001f' }, 'bob'],
      ['U+FEFF is kept, as Python does not strip it', { user: '\ufeffbob' }, '\ufeffbob'],
      ['metadata.user_id is stripped', { metadata: { user_id: ' m ' } }, 'm'],
      ['a JSON-looking string is kept as it is (validate_end_user_id_in_db off)', { user: '{"device_id":"d"}' }, '{"device_id":"d"}'],
    ];
    for (const [name, body, expected] of coerced) {
      it(`${name} (_coerce_user_id_to_str)`, () => {
        expect(getEndUserId({}, body, none)).to.equal(expected);
      });
    }

    it("reads a header's UTF-8 bytes as Latin-1, as Starlette does, so josé names josÃ© while a body's josé is josé", () => {
      expect(getEndUserId({ 'x-litellm-customer-id': 'josé' }, { user: 'josé' }, none)).to.equal('josÃ©');
      expect(getEndUserId({ 'x-legacy': '客' }, null, edgeSettings({ userHeaderName: 'x-legacy' }))).to.equal('å®¢');
      expect(getEndUserId({}, { user: 'josé' }, none)).to.equal('josé');
      // U+00A0 is C2 A0: Latin-1 reads Â and a no-break space, which str.strip() then drops.
      expect(getEndUserId({ 'x-litellm-end-user-id': 'bob\u00a0' }, null, none)).to.equal('bobÂ');
    });

    it('strips header values, and a blank one after stripping is skipped (_coerce_user_id_to_str)', () => {
      expect(getEndUserId({ 'x-litellm-customer-id': ' cust ' }, null, none)).to.equal('cust');
      expect(getEndUserId({ 'x-litellm-customer-id': ' \t ', 'x-litellm-end-user-id': 'eu' }, null, none)).to.equal('eu');
      expect(getEndUserId({ 'x-legacy': ' legacy ' }, null, edgeSettings({ userHeaderName: 'x-legacy' }))).to.equal('legacy');
    });

    it('names a numeric id in litellm_metadata.user or metadata.user_id by its literal too', () => {
      expect(getEndUserId({}, { metadata: { user_id: Number('1234567890123456789') } }, none, { metadataUserId: '1234567890123456789' })).to.equal('1234567890123456789');
      expect(getEndUserId({}, { litellm_metadata: { user: 2 } }, none, { litellmMetadataUser: '2.0' })).to.equal('2.0');
      expect(getEndUserId({}, { user: 'u', metadata: { user_id: 5 } }, none, { metadataUserId: '5.0' }), 'an earlier source wins').to.equal('u');
    });

    it("names a number past float's range inf, as Python reads and prints it", () => {
      expect(getEndUserId({}, { user: Infinity, metadata: { user_id: 'm' } }, none, { user: '1e400' })).to.equal('inf');
      expect(getEndUserId({}, { user: -Infinity }, none, { user: '-1e400' })).to.equal('-inf');
      expect(getEndUserId({}, { metadata: { user_id: Infinity }, safety_identifier: 's' }, none)).to.equal('inf');
    });

    it('skips a null body.user', () => {
      expect(getEndUserId({}, { user: null, litellm_metadata: { user: 'lm' } }, none)).to.equal('lm');
    });

    it('reads body.litellm_metadata.user (Anthropic)', () => {
      expect(getEndUserId({}, { litellm_metadata: { user: 'lm' }, metadata: { user_id: 'm' } }, none)).to.equal('lm');
    });

    it('reads body.metadata.user_id', () => {
      expect(getEndUserId({}, { metadata: { user_id: 'm' }, safety_identifier: 's' }, none)).to.equal('m');
    });

    it('reads body.safety_identifier last (OpenAI Responses)', () => {
      expect(getEndUserId({}, { safety_identifier: 's' }, none)).to.equal('s');
    });

    it('parses string-encoded metadata and litellm_metadata (multipart / extra_body)', () => {
      expect(getEndUserId({}, { metadata: '{"user_id":"from-json"}' }, none)).to.equal('from-json');
      expect(getEndUserId({}, { litellm_metadata: '{"user":"lm-json"}' }, none)).to.equal('lm-json');
    });

    it('ignores metadata strings that are not JSON objects', () => {
      expect(getEndUserId({}, { metadata: 'not json', safety_identifier: 's' }, none)).to.equal('s');
      expect(getEndUserId({}, { metadata: '["user_id"]' }, none)).to.equal(null);
    });

    it('returns null for no body and no headers', () => {
      expect(getEndUserId({}, null, none)).to.equal(null);
    });
  });
});
