/**
 * JWT auth for `tollgate serve`: the authenticator exists from the first moment (null when
 * `enable_jwt_auth` is off); its directory reaches the database once the store has connected.
 * Until then directory calls fail with StoreUnavailableError (→ "cannot decide"), as store reads do.
 */
import type { DataSource } from 'typeorm';
import type { JwtAuthenticator } from '../auth/jwt/authenticator';
import { createJwtAuthenticator } from '../auth/jwt/create';
import type { Settings } from '../config/settings';
import type { Logger } from '../observability/logger';
import type { AuthStore } from '../store/auth-store';
import { TypeOrmJwtDirectory, type JwtDirectory } from '../store/jwt-directory';
import { StoreUnavailableError } from '../store/unavailable';

export class DeferredJwtDirectory implements JwtDirectory {
  private target: JwtDirectory | null = null;
  private announce: ClientKeyAnnouncer = () => Promise.resolve();

  connect(directory: JwtDirectory, announce?: ClientKeyAnnouncer): void {
    this.target = directory;
    if (announce !== undefined) this.announce = announce;
  }

  findUserBySsoIdOrEmail: JwtDirectory['findUserBySsoIdOrEmail'] = (sso, email) => this.call((d) => d.findUserBySsoIdOrEmail(sso, email));
  upsertUser: JwtDirectory['upsertUser'] = (input) => this.call((d) => d.upsertUser(input));
  upsertTeam: JwtDirectory['upsertTeam'] = (teamId) => this.call((d) => d.upsertTeam(teamId));
  teamIdsWithAlias: JwtDirectory['teamIdsWithAlias'] = (alias) => this.call((d) => d.teamIdsWithAlias(alias));
  organizationIdsWithAlias: JwtDirectory['organizationIdsWithAlias'] = (alias) => this.call((d) => d.organizationIdsWithAlias(alias));
  /**
   * Then the cached "no mapping" of the claim is purged (serve.ts: this process and the shared
   * tier), so that the next token is decided from the mapping at once; a replica still answering
   * "no mapping" finds the registration again, with one read. Not awaited: the key exists, the
   * Check goes on.
   */
  registerClientKey: JwtDirectory['registerClientKey'] = (input) =>
    this.call(async (d) => {
      const keyHash = await d.registerClientKey(input);
      if (keyHash !== null) void this.announce(input.claimName, input.claimValue).catch(() => undefined);
      return keyHash;
    });

  /** `work`'s own answer (at once or not) once connected; a rejection before. */
  private call<R>(work: (directory: JwtDirectory) => R): R | Promise<never> {
    if (this.target === null) return Promise.reject(new StoreUnavailableError('authorization store not connected yet'));
    return work(this.target);
  }
}

/** Purges the cached "no mapping" of a claim value that is now mapped (auto_register). */
export type ClientKeyAnnouncer = (claimName: string, claimValue: string) => Promise<void>;

export interface JwtWiring {
  readonly authenticator: JwtAuthenticator | null;
  /** Called once the database is up. */
  connect(dataSource: DataSource, announce?: ClientKeyAnnouncer): void;
}

export function wireJwt(settings: Settings, store: AuthStore, logger: Logger): JwtWiring {
  const directory = new DeferredJwtDirectory();
  return {
    authenticator: createJwtAuthenticator({ settings, store, directory, logger }),
    connect: (dataSource, announce) => directory.connect(new TypeOrmJwtDirectory(dataSource, settings), announce),
  };
}
