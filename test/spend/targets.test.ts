import { expect } from 'chai';
import { NO_ATTRIBUTION } from '../../src/spend/spend-event';
import { targetName, targetsOf } from '../../src/spend/targets';
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

describe('spend targets of a request with tags', () => {
  const tagsOf = (attribution: Parameters<typeof targetsOf>[0]) => targetsOf(attribution).filter((t) => t.kind === 'tag').map((t) => t.id);

  it('charges only the tags the Check found a row for, when it said which', () => {
    expect(tagsOf({ ...NO_ATTRIBUTION, tags: ['a', 'b', 'c'], chargedTags: ['b'] })).to.deep.equal(['b']);
    expect(tagsOf({ ...NO_ATTRIBUTION, tags: ['a', 'b'], chargedTags: [] })).to.deep.equal([]);
  });

  it('charges every tag of an event queued by a version that did not say', () => {
    expect(tagsOf({ ...NO_ATTRIBUTION, tags: ['a', 'b', 'a'] })).to.deep.equal(['a', 'b']);
  });
});
