import { expect } from 'chai';
import { TypeOrmAuthStore } from '../../src/store/typeorm-auth-store';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { describeEachBackend } from '../support/store-backends';
import { dialectOf } from '../../src/store/dialect';
import { USER_EMAIL_LOWER_INDEX } from '../../src/store/migrations/1764115500000-user-email-index';

describeEachBackend('findUserIdByEmail (validate_end_user_id_in_db)', (backend) => {
  let store: TypeOrmAuthStore;
  let rows: LiteLlmRows;

  before(() => {
    store = new TypeOrmAuthStore(backend().dataSource, backend().settings);
    rows = new LiteLlmRows(backend().dataSource);
  });

  it("finds the user's id up to case, in one parameterized statement", async () => {
    const email = `${uniqueId('mail')}@Example.com`;
    const user = await rows.aUser({ user_email: email });
    await store.findUserIdByEmail('first-lookup@example.com'); // a store's first lookup asks which column is indexed
    const before = store.queryCounter.count;
    expect(await store.findUserIdByEmail(email.toLowerCase())).to.equal(user.user_id);
    expect(store.queryCounter.count - before).to.equal(1);
    expect(await store.findUserIdByEmail(`' OR '1'='1`)).to.equal(null);
  });

  it('does not take an email with a trailing space for the email (MariaDB collations would)', async () => {
    const email = `${uniqueId('mail')}@example.com`;
    await rows.aUser({ user_email: email });
    expect(await store.findUserIdByEmail(`${email} `)).to.equal(null);
    expect(await store.findUserIdByEmail(email.slice(0, -1))).to.equal(null);
  });

  it('matches beyond ASCII up to case, as Postgres and JavaScript lower-case (SQLite LOWER() folds ASCII only)', async () => {
    const email = `ÉLODIE.${uniqueId('mail')}@Example.com`;
    const user = await rows.aUser({ user_email: email });
    expect(await store.findUserIdByEmail(email.toLowerCase())).to.equal(user.user_id);
    expect(await store.findUserIdByEmail(email.replace('É', 'E'))).to.equal(null);
  });

  it("takes % and _ as themselves, not as the wildcards of the ILIKE LiteLLM's Prisma sends (an id of % would name every user)", async () => {
    const email = `${uniqueId('mail')}@example.com`;
    await rows.aUser({ user_email: email });
    expect(await store.findUserIdByEmail('%')).to.equal(null);
    expect(await store.findUserIdByEmail(`_${email.slice(1)}`)).to.equal(null);
    expect(await store.findUserIdByEmail(`%${email.slice(3)}`)).to.equal(null);
  });

  it('answers the smallest id when several users share the email', async () => {
    const email = `${uniqueId('mail')}@example.com`;
    await rows.aUser({ user_id: `${email}-b`, user_email: email });
    await rows.aUser({ user_id: `${email}-a`, user_email: email.toUpperCase() });
    expect(await store.findUserIdByEmail(email)).to.equal(`${email}-a`);
  });

  it('looks the email up through its index, not by scanning every user', async () => {
    const ds = backend().dataSource;
    const seen: string[] = [];
    const logger = ds.logger;
    const original = logger.logQuery.bind(logger);
    logger.logQuery = (query, parameters, runner) => {
      seen.push(query);
      return original(query, parameters, runner);
    };
    try {
      await store.findUserIdByEmail(`${uniqueId('mail')}@example.com`);
    } finally {
      logger.logQuery = original;
    }
    const lookup = seen.find((q) => q.includes('LiteLLM_UserTable'));
    expect(lookup, seen.join('\n')).to.not.equal(undefined);
    const sql = lookup as string;
    const plan = (await ds.query(
      dialectOf(ds) === 'mysql' ? `EXPLAIN ${sql}` : `EXPLAIN QUERY PLAN ${sql}`,
      ['probe@example.com'],
    )) as Record<string, unknown>[];
    const text = JSON.stringify(plan);
    expect(text, text).to.include(USER_EMAIL_LOWER_INDEX);
  });
});
