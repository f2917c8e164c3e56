/**
 * Existence checks run inside the admin transactions, so the CLI reports "team T does not exist"
 * or "key alias A already exists" instead of a driver's constraint error (or, with no foreign
 * keys, a silently dangling reference).
 */
import type { EntityManager, EntityTarget, FindOptionsWhere, ObjectLiteral } from 'typeorm';
import { AdminInputError } from './admin-inputs';

export async function mustExist<E extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<E>,
  where: FindOptionsWhere<E>,
  description: string,
): Promise<void> {
  if (!(await manager.existsBy(entity, where))) throw new AdminInputError(`${description} does not exist`);
}

export async function mustNotExist<E extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<E>,
  where: FindOptionsWhere<E>,
  description: string,
): Promise<void> {
  if (await manager.existsBy(entity, where)) throw new AdminInputError(`${description} already exists`);
}
