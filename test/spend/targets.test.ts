import { expect } from 'chai';
import { targetName } from '../../src/spend/targets';
import { wellFormed, wellFormedJson } from '../../src/util/well-formed';

describe('spend target names and stored text with half a surrogate pair', () => {
  it('names a target whose id a JSON body gave half a pair, instead of throwing (encodeURIComponent does)', () => {
    expect(targetName({ kind: 'end_user', id: 'eu\udc00' })).to.equal('end_user:eu%EF%BF%BD');
    expect(targetName({ kind: 'team_member', id: 'u', teamId: 't\ud800' })).to.equal('team_member:u:t%EF%BF%BD');
    expect(targetName({ kind: 'tag', id: 'a:b' }), 'other ids as before').to.equal('tag:a%3Ab');
  });

  it('replaces each lone half with U+FFFD and keeps whole pairs', () => {
    expect(wellFormed('a\ud800b\udc00c')).to.equal('a\ufffdb\ufffdc');
    expect(wellFormed('😀 ok')).to.equal('😀 ok');
    expect(wellFormedJson({ tags: ['t\ud800', '😀'] })).to.equal('{"tags":["t\ufffd","😀"]}');
  });
});
