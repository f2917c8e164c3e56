/**
 * Builds the JWT authenticator from settings, or null when `enable_jwt_auth` is off. Key sets are
 * fetched once at startup (in the background) so the first tokens do not wait on the IdP.
 */
import type { Settings } from '../../config/settings';
import type { Logger } from '../../observability/logger';
import { safeUrl } from '../../observability/logger';
import type { AuthStore } from '../../store/auth-store';
import type { JwtDirectory } from '../../store/jwt-directory';
import { JwtAuthenticator } from './authenticator';
import { CachedJwtDirectory } from './directory-cache';
import { JwksCache, type JwksEvents } from './jwks-cache';
import { httpJwksFetcher, type JwksFetcher } from './jwks-fetch';
import { TokenVerifier } from './verify';

export interface JwtAuthenticatorParts {
  readonly settings: Pick<Settings, 'jwt' | 'policy' | 'cache'>;
  readonly store: AuthStore;
  readonly directory: JwtDirectory;
  readonly logger?: Logger;
  /** Tests substitute the HTTP fetch. */
  readonly fetcher?: JwksFetcher;
}

/** Key-set fetches are logged by URL (credentials masked); never a token. */
function jwksEvents(logger: Logger | undefined): JwksEvents {
  return {
    fetched: (url, keyCount) => logger?.debug({ jwks: safeUrl(url), keyCount }, 'JWKS fetched'),
    fetchFailed: (url, reason) => logger?.warn({ jwks: safeUrl(url), reason }, 'JWKS fetch failed'),
  };
}

export function createJwtAuthenticator(parts: JwtAuthenticatorParts): JwtAuthenticator | null {
  const { jwt, policy, cache } = parts.settings;
  if (!jwt.enabled) return null;
  const jwks = new JwksCache(jwt.jwks, parts.fetcher ?? httpJwksFetcher, jwksEvents(parts.logger));
  const urls = new Set([...jwt.defaultKeys.jwksUrls, ...jwt.issuers.flatMap((i) => i.jwksUrls)]);
  for (const url of urls) jwks.keysFor(url).catch(() => undefined); // failures are logged by the events
  return new JwtAuthenticator({
    settings: jwt,
    policy,
    store: parts.store,
    directory: new CachedJwtDirectory(parts.directory, Math.max(cache.negativeTtlSeconds, 1) * 1000),
    verifier: new TokenVerifier(jwt, jwks),
    registrationFailed: (claimName, cause) =>
      parts.logger?.warn(
        { claim: claimName, err: cause instanceof Error ? cause.message : String(cause) },
        'auto_register: a client key could not be created; the client was refused with 500',
      ),
  });
}
