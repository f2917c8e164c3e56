import { expect } from 'chai';
import {
  checkRouteAccess,
  routeMatchesAllowedRoute,
  routeMatchesPlaceholderTemplate,
  routeMatchesStarletteTemplate,
  routeMatchesWildcardPattern,
} from '../../src/routes/match';

describe('route matching primitives — §6.2', () => {
  it('{x} matches exactly one segment', () => {
    expect(routeMatchesPlaceholderTemplate('/threads/t1', '/threads/{thread_id}')).to.equal(true);
    expect(routeMatchesPlaceholderTemplate('/threads/t1/x', '/threads/{thread_id}')).to.equal(false);
  });

  it('{x:path} matches slashes but stops at ":"', () => {
    expect(routeMatchesPlaceholderTemplate('/models/a/b:countTokens', '/models/{m:path}:countTokens')).to.equal(true);
    expect(routeMatchesPlaceholderTemplate('/models/a:b:countTokens', '/models/{m:path}:countTokens')).to.equal(false);
  });

  it("Starlette's {x:path} is Python's .*: any character but a newline, \\r and U+2028 included", () => {
    expect(routeMatchesStarletteTemplate('/engines/a/b/chat/completions', '/engines/{model:path}/chat/completions')).to.equal(true);
    expect(routeMatchesStarletteTemplate('/engines/a\r/chat/completions', '/engines/{model:path}/chat/completions')).to.equal(true);
    expect(routeMatchesStarletteTemplate('/engines/a\u2028/chat/completions', '/engines/{model:path}/chat/completions')).to.equal(true);
    expect(routeMatchesStarletteTemplate('/engines/a\nb/chat/completions', '/engines/{model:path}/chat/completions')).to.equal(false);
  });

  it("reads a template's unescaped . as Python's: any character but a newline; \\. and [.] stay literal", () => {
    expect(routeMatchesPlaceholderTemplate('/v1/a.b/{x}'.replace('{x}', 'y'), '/v1/a.b/{x}')).to.equal(true);
    expect(routeMatchesPlaceholderTemplate('/v1/a\rb/y', '/v1/a.b/{x}')).to.equal(true);
    expect(routeMatchesPlaceholderTemplate('/v1/a\u2028b/y', '/v1/a.b/{x}')).to.equal(true);
    expect(routeMatchesPlaceholderTemplate('/v1/a\nb/y', '/v1/a.b/{x}')).to.equal(false);
    expect(routeMatchesPlaceholderTemplate('/v1/aXb/y', '/v1/a\\.b/{x}')).to.equal(false);
    expect(routeMatchesPlaceholderTemplate('/v1/a.b/y', '/v1/a\\.b/{x}')).to.equal(true);
    expect(routeMatchesPlaceholderTemplate('/v1/aXb/y', '/v1/a[.]b/{x}')).to.equal(false);
    expect(routeMatchesPlaceholderTemplate('/v1/a.b/y', '/v1/a[.]b/{x}')).to.equal(true);
  });

  it('does not confuse /key/regenerate/x with /key/{token_id}/regenerate', () => {
    expect(routeMatchesPlaceholderTemplate('/key/regenerate/82akk', '/key/{token_id}/regenerate')).to.equal(false);
  });

  it('a trailing * is a prefix; anything else is equality', () => {
    expect(routeMatchesWildcardPattern('/scim/v2/Users/1', '/scim/v2/*')).to.equal(true);
    expect(routeMatchesWildcardPattern('/chat/completions', '/scim/v2/*')).to.equal(false);
    expect(routeMatchesWildcardPattern('/a', '/a')).to.equal(true);
  });

  it('allowed-route prefix needs a "/" boundary', () => {
    expect(routeMatchesAllowedRoute('/p-6/x', '/p-6')).to.equal(true);
    expect(routeMatchesAllowedRoute('/p-600', '/p-6')).to.equal(false);
  });

  it('checkRouteAccess: exact, wildcard, or template', () => {
    expect(checkRouteAccess('/a', ['/a'])).to.equal(true);
    expect(checkRouteAccess('/anthropic/v1/messages', ['/anthropic/*'])).to.equal(true);
    expect(checkRouteAccess('/files/f1/content', ['/files/{file_id}/content'])).to.equal(true);
    expect(checkRouteAccess('/b', ['/a'])).to.equal(false);
  });
});
