/**
 * The store the authorizer holds from the first moment: until the database has connected it
 * throws StoreUnavailableError (→ "cannot decide"), so requests that need no store — no key,
 * a malformed key, the master key, public routes — are decided even during a database outage.
 */
import type { AuthStore } from '../store/auth-store';
import { StoreUnavailableError } from '../store/unavailable';

export class DeferredAuthStore implements AuthStore {
  private target: AuthStore | null = null;

  connect(store: AuthStore): void {
    this.target = store;
  }

  private get store(): AuthStore {
    if (this.target === null) throw new StoreUnavailableError('authorization store not connected yet');
    return this.target;
  }

  /** The connected store's memory reads; none before it connects (lookups then fail as above). */
  get memory(): AuthStore['memory'] {
    return this.target?.memory;
  }

  findKey: AuthStore['findKey'] = (hash) => this.call((s) => s.findKey(hash));
  /** The connected store's, or none when it knows no rotations (checked at the call: it connects later). */
  findDeprecatedKey: NonNullable<AuthStore['findDeprecatedKey']> = (hash) =>
    this.call((s) => (s.findDeprecatedKey === undefined ? Promise.resolve(null) : s.findDeprecatedKey(hash)));
  /** The connected store's, or none when it knows no JWT key mappings. */
  findJwtKeyMapping: NonNullable<AuthStore['findJwtKeyMapping']> = (claimName, claimValue) =>
    this.call((s) => (s.findJwtKeyMapping === undefined ? Promise.resolve(null) : s.findJwtKeyMapping(claimName, claimValue)));
  findTeam: AuthStore['findTeam'] = (id) => this.call((s) => s.findTeam(id));
  findMembership: AuthStore['findMembership'] = (userId, teamId) => this.call((s) => s.findMembership(userId, teamId));
  findUser: AuthStore['findUser'] = (id) => this.call((s) => s.findUser(id));
  findEndUser: AuthStore['findEndUser'] = (id) => this.call((s) => s.findEndUser(id));
  findUserIdByEmail: AuthStore['findUserIdByEmail'] = (email) => this.call((s) => s.findUserIdByEmail(email));
  findOrganization: AuthStore['findOrganization'] = (id) => this.call((s) => s.findOrganization(id));
  findProject: AuthStore['findProject'] = (id) => this.call((s) => s.findProject(id));
  findTags: AuthStore['findTags'] = (names) => this.call((s) => s.findTags(names));
  findAccessGroups: AuthStore['findAccessGroups'] = (ids) => this.call((s) => s.findAccessGroups(ids));
  findBudget: AuthStore['findBudget'] = (id) => this.call((s) => s.findBudget(id));
  findObjectPermissions: AuthStore['findObjectPermissions'] = (ids) => this.call((s) => s.findObjectPermissions(ids));
  findAgent: AuthStore['findAgent'] = (id) => this.call((s) => s.findAgent(id));
  globalSpend: AuthStore['globalSpend'] = () => this.call((s) => s.globalSpend());
  /** The connected store's, or no window spend from one that counts none (checked at the call). */
  windowSpend: NonNullable<AuthStore['windowSpend']> = (entity, entityId, window) =>
    this.call((s) => (s.windowSpend === undefined ? Promise.resolve(0) : s.windowSpend(entity, entityId, window)));
  /** The connected store's state, else its spend (a store that keeps no state), else none. */
  windowSpendState: NonNullable<AuthStore['windowSpendState']> = (entity, entityId, window) =>
    this.call((s) => {
      if (s.windowSpendState !== undefined) return s.windowSpendState(entity, entityId, window);
      return s.windowSpend === undefined ? Promise.resolve(0) : s.windowSpend(entity, entityId, window);
    });
  ping: AuthStore['ping'] = () => this.call((s) => s.ping());
  close: AuthStore['close'] = () => (this.target === null ? Promise.resolve() : this.target.close());

  private call<T>(work: (store: AuthStore) => Promise<T>): Promise<T> {
    try {
      return work(this.store);
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
