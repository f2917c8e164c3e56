/**
 * Is this caller a JWT (litellm-auth.md §2.4)? With `enable_jwt_auth`:
 * - claims Envoy's jwt_authn already verified, found in the configured metadata namespace
 *   (`tollgate.jwt.envoy_metadata_namespace`, key `envoy_metadata_payload_key`), or else
 * - a credential with exactly three dot-separated parts (`JWTHandler.is_jwt`), to verify here.
 * Everything else takes the master-key / virtual-key path.
 */
import { isJsonObject } from '../../checks/context';
import type { RequestFacts } from '../../domain/request';
import type { JwtSource } from './authenticator';
import type { JwtSettings } from './settings';

export type JwtRecognition = Pick<JwtSettings, 'enabled' | 'envoy'>;

export function recognizeJwt(facts: RequestFacts, recognition: JwtRecognition | null): JwtSource | null {
  if (recognition === null || !recognition.enabled) return null;
  const namespace = recognition.envoy.namespace;
  if (namespace !== null) {
    const payload = facts.filterMetadata[namespace]?.[recognition.envoy.payloadKey];
    if (isJsonObject(payload)) return { kind: 'envoy', claims: payload };
  }
  // Tested before a mapped pass-through's `litellm_user_api_key` replaces the credential, as LiteLLM does.
  const credential = facts.jwtCredential ?? facts.credential;
  if (credential.kind === 'present' && credential.value.split('.').length === 3) {
    return { kind: 'bearer', token: credential.value };
  }
  return null;
}
