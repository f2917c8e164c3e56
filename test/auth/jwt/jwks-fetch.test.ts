import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpJwksFetcher, shownUrl } from '../../../src/auth/jwt/jwks-fetch';
import { aSigningKey, type SigningKey } from '../../support/jwt';

/** An identity provider on 127.0.0.1:0 that answers every GET with `handler`. */
async function anEndpoint(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server: Server = createServer((request, response) => {
    hits += 1;
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function failureOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('expected the fetch to fail');
  return error.message;
}

describe('httpJwksFetcher: a hostile or broken JWKS endpoint', function () {
  this.timeout(20_000);
  let rsa: SigningKey;
  before(async () => {
    rsa = await aSigningKey('RS256', 'fetch-1');
  });

  it('fails on a declared body over 1 MiB without reading it', async () => {
    const idp = await anEndpoint((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(64 * 1024 * 1024) });
      res.write('{"keys":[');
    });
    try {
      expect(await failureOf(httpJwksFetcher(`${idp.url}/jwks`, 2000))).to.include('larger than');
    } finally {
      await idp.close();
    }
  });

  it('fails on an undeclared (chunked) body past 1 MiB, stopping the read there', async () => {
    const idp = await anEndpoint((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = 'x'.repeat(64 * 1024);
      let sent = 0;
      const more = (): void => {
        while (sent < 64 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
        if (sent < 64 * 1024 * 1024) res.once('drain', more);
      };
      res.on('error', () => undefined);
      more();
    });
    try {
      expect(await failureOf(httpJwksFetcher(`${idp.url}/jwks`, 5000))).to.include('larger than');
    } finally {
      await idp.close();
    }
  });

  it('gives up on a body that trickles in past the deadline (slowloris), not only on slow headers', async () => {
    const idp = await anEndpoint((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"keys":[');
      const timer = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(timer));
    });
    try {
      const started = Date.now();
      await failureOf(httpJwksFetcher(`${idp.url}/jwks`, 300));
      expect(Date.now() - started).to.be.lessThan(2000);
    } finally {
      await idp.close();
    }
  });

  for (const [what, body] of [
    ['not JSON', '<html>login</html>'],
    ['truncated JSON', '{"keys":[{"kty":"RSA"'],
  ] as const) {
    it(`fails (an outage, not an empty set) on ${what}`, async () => {
      const idp = await anEndpoint((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
      try {
        expect(await failureOf(httpJwksFetcher(`${idp.url}/jwks`, 2000))).to.include('not a JSON key set');
      } finally {
        await idp.close();
      }
    });
  }

  for (const [what, body] of [
    ['null', 'null'],
    ['a number', '42'],
    ['a string', '"-----BEGIN CERTIFICATE-----"'],
    ['keys that are not objects', '{"keys":[1,"a",null,[]]}'],
    ['keys: null', '{"keys":null}'],
  ] as const) {
    it(`reads a JSON body of ${what} as a set without usable keys`, async () => {
      const idp = await anEndpoint((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
      try {
        expect(await httpJwksFetcher(`${idp.url}/jwks`, 2000)).to.deep.equal([]);
      } finally {
        await idp.close();
      }
    });
  }

  it('drops symmetric keys and the private members an endpoint should never publish', async () => {
    const idp = await anEndpoint((_req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ keys: [{ kty: 'oct', k: Buffer.from(rsa.pem).toString('base64url'), kid: rsa.kid }, rsa.jwk] })),
    );
    try {
      const keys = await httpJwksFetcher(`${idp.url}/jwks`, 2000);
      expect(keys.map((k) => [k.kid, k.key.type])).to.deep.equal([[rsa.kid, 'public']]);
    } finally {
      await idp.close();
    }
  });

  it('does not follow a redirect: the key set must come from the configured URL (httpx does not follow either)', async () => {
    const attacker = await anEndpoint((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [rsa.jwk] })));
    const idp = await anEndpoint((_req, res) => res.writeHead(302, { location: `${attacker.url}/jwks` }).end());
    try {
      expect(await failureOf(httpJwksFetcher(`${idp.url}/jwks`, 2000))).to.include('HTTP 302 (redirects are not followed');
      expect(attacker.hits()).to.equal(0);
    } finally {
      await Promise.all([idp.close(), attacker.close()]);
    }
  });

  it('sends credentials written in the URL as HTTP Basic auth, as httpx does, and never in the request line', async () => {
    const seen: (string | undefined)[] = [];
    const idp = await anEndpoint((req, res) => {
      seen.push(req.headers.authorization, req.url);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [rsa.jwk] }));
    });
    try {
      const keys = await httpJwksFetcher(idp.url.replace('http://', 'http://reader:s%3Acret@') + '/jwks', 2000);
      expect(keys.map((k) => k.kid)).to.deep.equal([rsa.kid]);
      expect(seen).to.deep.equal([`Basic ${Buffer.from('reader:s:cret').toString('base64')}`, '/jwks']);
    } finally {
      await idp.close();
    }
  });

  it("reads an OIDC discovery URL's jwks_uri and fetches the keys there (newer LiteLLM _resolve_jwks_url)", async () => {
    const idp = await anEndpoint((req, res) => {
      const body = req.url === '/realms/x/.well-known/openid-configuration' ? { issuer: 'x', jwks_uri: `http://${req.headers.host}/realms/x/certs` } : { keys: [rsa.jwk] };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    try {
      const keys = await httpJwksFetcher(`${idp.url}/realms/x/.well-known/openid-configuration`, 2000);
      expect(keys.map((k) => k.kid)).to.deep.equal([rsa.kid]);
      expect(idp.hits()).to.equal(2);
    } finally {
      await idp.close();
    }
  });

  it('fails on a discovery document without an http(s) jwks_uri', async () => {
    for (const jwksUri of [undefined, 'file:///etc/passwd', 42]) {
      const idp = await anEndpoint((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jwks_uri: jwksUri })));
      try {
        expect(await failureOf(httpJwksFetcher(`${idp.url}/.well-known/openid-configuration`, 2000))).to.include("no http(s) 'jwks_uri'");
      } finally {
        await idp.close();
      }
    }
  });
});

describe('shownUrl', () => {
  it('masks credentials and leaves every other URL as written', () => {
    expect(shownUrl('https://reader:s3cret@idp.example/jwks')).to.equal('https://***:***@idp.example/jwks');
    expect(shownUrl('https://token@idp.example/jwks')).to.equal('https://***@idp.example/jwks');
    expect(shownUrl('https://idp.example')).to.equal('https://idp.example');
  });
});
