/**
 * JWT test kit: signing keys, tokens signed with jose (and the forged kinds attackers send), and
 * a real JWKS HTTP server on 127.0.0.1:0 whose key set can rotate and whose endpoint can go down.
 */
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export interface SigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKey;
  /** The public JWK as a JWKS endpoint publishes it (kid, alg, use: sig). */
  readonly jwk: JWK;
  /** SPKI PEM of the public key. */
  readonly pem: string;
}

let keyCounter = 0;

export async function aSigningKey(alg = 'RS256', kid = `key-${++keyCounter}`): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, jwk, pem: await exportSPKI(publicKey) };
}

export interface TokenOptions {
  /** Seconds from now; null leaves `exp` out. Default one hour. */
  readonly expiresIn?: number | null;
  /** Seconds from now for `nbf`. */
  readonly notBefore?: number;
  /** Seconds from now for `iat`; default now. */
  readonly issuedAt?: number;
  /** Header `kid`; null leaves it out. Defaults to the key's. */
  readonly kid?: string | null;
}

const now = (): number => Math.floor(Date.now() / 1000);

export async function aToken(key: SigningKey, claims: Record<string, unknown> = {}, options: TokenOptions = {}): Promise<string> {
  const kid = options.kid === undefined ? key.kid : options.kid;
  const header = kid === null ? { alg: key.alg, typ: 'JWT' } : { alg: key.alg, typ: 'JWT', kid };
  const jwt = new SignJWT(claims).setProtectedHeader(header).setIssuedAt(options.issuedAt === undefined ? undefined : now() + options.issuedAt);
  const expiresIn = options.expiresIn === undefined ? 3600 : options.expiresIn;
  if (expiresIn !== null) jwt.setExpirationTime(now() + expiresIn);
  if (options.notBefore !== undefined) jwt.setNotBefore(now() + options.notBefore);
  return jwt.sign(key.privateKey);
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** `alg: none`, no signature: accepted only by verifiers that trust the header. */
export function anUnsignedToken(claims: Record<string, unknown>, kid?: string): string {
  return `${b64({ alg: 'none', typ: 'JWT', ...(kid ? { kid } : {}) })}.${b64({ exp: now() + 3600, ...claims })}.`;
}

/**
 * The classic key-confusion forgery: HS256 "signed" with the RSA *public* key as the shared
 * secret, hoping the verifier feeds its public key to HMAC.
 */
export function anHs256TokenSignedWithPublicKey(key: SigningKey, claims: Record<string, unknown>): string {
  const signingInput = `${b64({ alg: 'HS256', typ: 'JWT', kid: key.kid })}.${b64({ exp: now() + 3600, ...claims })}`;
  const signature = createHmac('sha256', key.pem).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}

/** The same signature over a different payload (e.g. a raised role). */
export function withTamperedPayload(token: string, claims: Record<string, unknown>): string {
  const [header, , signature] = token.split('.');
  return `${header}.${b64({ exp: now() + 3600, ...claims })}.${signature}`;
}

export interface JwksServer {
  readonly url: string;
  /** GET requests served (key-set fetches). */
  readonly hits: number;
  /** Publish exactly these keys from now on. */
  publish(...keys: SigningKey[]): void;
  /** Connections are cut (no answer at all) until `up()`. */
  down(): void;
  up(): void;
  /** Answer with this HTTP status and no key set until `up()`. */
  failWith(status: number): void;
  /** Accept requests and never answer until `up()` (a stuck identity provider). */
  hang(): void;
  close(): Promise<void>;
}

export async function startJwksServer(...keys: SigningKey[]): Promise<JwksServer> {
  let published: SigningKey[] = keys;
  let mode: { kind: 'up' } | { kind: 'down' } | { kind: 'hang' } | { kind: 'status'; status: number } = { kind: 'up' };
  let hits = 0;
  const server: Server = createServer((request, response) => {
    hits += 1;
    if (mode.kind === 'down') {
      request.socket.destroy();
      return;
    }
    if (mode.kind === 'hang') return;
    if (mode.kind === 'status') {
      response.writeHead(mode.status).end('unavailable');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published.map((k) => k.jwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/realms/test/protocol/openid-connect/certs`,
    get hits() {
      return hits;
    },
    publish: (...next) => {
      published = next;
    },
    down: () => {
      mode = { kind: 'down' };
    },
    up: () => {
      mode = { kind: 'up' };
    },
    failWith: (status) => {
      mode = { kind: 'status', status };
    },
    hang: () => {
      mode = { kind: 'hang' };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
