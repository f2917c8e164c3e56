/**
 * Infrastructure failures of JWT verification. Like a store outage these are thrown, never turned
 * into denials: the server answers gRPC UNAVAILABLE ("cannot decide"), so Envoy's failure mode
 * applies instead of every token being refused while the identity provider is down.
 */
import { shownUrl } from './jwks-fetch';

/** No usable key set for a token's issuer: the JWKS endpoint cannot be reached and nothing is cached. */
export class JwksUnavailableError extends Error {
  override readonly name = 'JwksUnavailableError';

  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(`JWKS ${shownUrl(url)} unavailable and no keys cached: ${reason}`);
  }
}
