/**
 * Existence checks run inside the admin transactions, so the CLI reports "team T does not exist"
 * or "key alias A already exists" instead of a driver's constraint error (or, with no foreign
 * keys, a silently dangling reference).
 *
 * A reference must name its row exactly as stored: the server looks ids up byte for byte (as
 * LiteLLM's Postgres does), while MySQL's collations also match other spellings (trailing spaces,
 * case). `--team 'research '` would find the team here and point at no team there. Names that a
 * collation takes for an existing one are refused as existing, so no two rows differ only in that.
 */
import type { EntityManager, EntityTarget, FindOptionsWhere, ObjectLiteral } from 'typeorm';
import { AdminInputError } from './admin-inputs';

export async function mustExist<E extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<E>,
  where: FindOptionsWhere<E>,
  description: string,
): Promise<void> {
  if (!(await existsExactly(manager, entity, where))) throw new AdminInputError(`${description} does not exist`);
}

/** Whether a row matches every value of `where` byte for byte, not only under the collation. */
export async function existsExactly<E extends ObjectLiteral>(manager: EntityManager, entity: EntityTarget<E>, where: FindOptionsWhere<E>): Promise<boolean> {
  const rows = await manager.findBy(entity, where);
  return rows.some((row) => isExactly(row, where));
}

/** Whether `row` holds each value of `where` as given (a collation may have matched another spelling). */
export function isExactly<E extends ObjectLiteral>(row: E, where: FindOptionsWhere<E>): boolean {
  return Object.entries(where).every(([column, value]) => (row as Record<string, unknown>)[column] === value);
}

export async function mustNotExist<E extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<E>,
  where: FindOptionsWhere<E>,
  description: string,
): Promise<void> {
  if (await manager.existsBy(entity, where)) throw new AdminInputError(`${description} already exists`);
}

/**
 * As mustNotExist, for a value an existing row takes on (an alias on update): the row itself may
 * hold it already; any other row holding it, under the collation too, refuses it.
 */
export async function mustBeFreeFor<E extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<E>,
  where: FindOptionsWhere<E>,
  isSelf: (row: E) => boolean,
  description: string,
): Promise<void> {
  const holders = await manager.findBy(entity, where);
  if (holders.some((row) => !isSelf(row))) throw new AdminInputError(`${description} already exists`);
}
