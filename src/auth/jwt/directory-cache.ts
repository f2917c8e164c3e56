/**
 * Short-lived memory for the JWT directory's reads (alias → ids, the fallback user match), as
 * LiteLLM caches alias lookups for `DEFAULT_IN_MEMORY_TTL` (5 s). Misses are remembered too, so a
 * token naming an unknown alias or user costs one query per TTL, not one per request, and a
 * remembered answer comes back at once, without a promise. Writes (upserts) pass straight through.
 */
import { LRUCache } from 'lru-cache';
import type { Team, User } from '../../domain/entities';
import type { JwtDirectory, NewJwtClientKey, NewJwtUser } from '../../store/jwt-directory';
import type { MaybePromise } from '../../util/maybe-promise';

const MAX_ENTRIES = 10_000;

export class CachedJwtDirectory implements JwtDirectory {
  private readonly memory: LRUCache<string, { readonly value: unknown }>;

  constructor(
    private readonly directory: JwtDirectory,
    ttlMs: number,
  ) {
    this.memory = new LRUCache({ max: MAX_ENTRIES, ttl: Math.max(1, ttlMs) });
  }

  findUserBySsoIdOrEmail(ssoUserId: string | null, email: string | null): MaybePromise<User | null> {
    // JSON, not a joined text: claims are the IdP's to fill, so no separator is safe from them.
    return this.remembered(JSON.stringify(['user', ssoUserId, email?.toLowerCase() ?? null]), () =>
      this.directory.findUserBySsoIdOrEmail(ssoUserId, email),
    );
  }

  async upsertUser(input: NewJwtUser): Promise<User | null> {
    const user = await this.directory.upsertUser(input);
    this.memory.clear(); // a remembered "no such user" must not outlive the row
    return user;
  }

  upsertTeam(teamId: string): Promise<Team | null> {
    return this.directory.upsertTeam(teamId);
  }

  registerClientKey(input: NewJwtClientKey): Promise<string | null> {
    return this.directory.registerClientKey(input);
  }

  teamIdsWithAlias(alias: string): MaybePromise<readonly string[]> {
    return this.remembered(JSON.stringify(['team', alias]), () => this.directory.teamIdsWithAlias(alias));
  }

  organizationIdsWithAlias(alias: string): MaybePromise<readonly string[]> {
    return this.remembered(JSON.stringify(['org', alias]), () => this.directory.organizationIdsWithAlias(alias));
  }

  /** A remembered answer at once; a miss asks the directory and remembers what it answers. */
  private remembered<T>(key: string, load: () => MaybePromise<T>): MaybePromise<T> {
    const hit = this.memory.get(key);
    if (hit !== undefined) return hit.value as T;
    return Promise.resolve(load()).then((value) => {
      this.memory.set(key, { value });
      return value;
    });
  }
}
