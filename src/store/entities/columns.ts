/**
 * Column decorators for LiteLLM's Prisma types, mapped as litellm-schema.md §4 prescribes.
 *
 * Every decorator names its TypeORM type explicitly: tsx/esbuild do not emit decorator metadata,
 * so TypeORM must never have to infer a type from `design:type`.
 * Defaults mirror Prisma's `@default(...)`. TypeORM only uses them itself on SQLite, where an
 * omitted value is written as the entity default instead of the keyword DEFAULT.
 */
import { Column, PrimaryColumn, type ValueTransformer } from 'typeorm';

/**
 * What a JSON column holds as read: anything at all, since other tools write these rows.
 * `to-domain.ts` narrows it to the shape the checks expect.
 */
export type JsonValue = unknown;

/** Ids, aliases and other short strings: VARCHAR(255), so they can be keys on MySQL. */
const ID_LENGTH = 255;

/** `String[]` is a JSON array; a NULL (or anything that is not an array) reads as `[]`. */
export const stringListTransformer: ValueTransformer = {
  to: (value: readonly string[] | null | undefined): readonly string[] => value ?? [],
  from: (value: unknown): string[] => toStringList(value),
};

export function toStringList(value: unknown): string[] {
  if (typeof value === 'string') {
    // A driver that hands back the raw JSON text (or a row written as text by another tool).
    try {
      return toStringList(JSON.parse(value) as unknown);
    } catch {
      return [];
    }
  }
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** BigInt arrives as a string from mysql2 (bigNumberStrings); the domain wants numbers. */
export const bigIntTransformer: ValueTransformer = {
  to: (value: number | null | undefined): number | null | undefined => value,
  from: (value: unknown): number | null => {
    if (value === null || value === undefined) return null;
    const parsed = typeof value === 'bigint' ? Number(value) : Number(value as string | number);
    return Number.isFinite(parsed) ? parsed : null;
  },
};

interface NullableOption {
  readonly nullable?: boolean;
}

/** `String @id` (VARCHAR(255)). */
export function IdColumn(name?: string): PropertyDecorator {
  return PrimaryColumn({ name, type: 'varchar', length: ID_LENGTH });
}

/** `String` / `String?` as VARCHAR(255); nullable unless told otherwise. */
export function StringColumn(options: NullableOption & { readonly name?: string; readonly default?: string } = {}): PropertyDecorator {
  return Column({
    name: options.name,
    type: 'varchar',
    length: ID_LENGTH,
    nullable: options.nullable ?? true,
    default: options.default,
  });
}

/** Free text (descriptions, URLs, password hashes). */
export function TextColumn(options: NullableOption = {}): PropertyDecorator {
  return Column({ type: 'text', nullable: options.nullable ?? true });
}

/** `String[] @default([])` → JSON array. */
export function StringListColumn(): PropertyDecorator {
  return Column({ type: 'json', nullable: true, transformer: stringListTransformer });
}

/**
 * `Json` / `Json?`. `defaultJson` is Prisma's `@default("{}")` written as JSON text.
 * NOT NULL unless `nullable` (Prisma `Json @default("{}")` is NOT NULL). `select: false` for a
 * column a database may not have yet: read only where it is asked for by name.
 */
export function JsonColumn(
  options: NullableOption & { readonly name?: string; readonly defaultJson?: '{}' | '[]'; readonly select?: false } = {},
): PropertyDecorator {
  return Column({
    name: options.name,
    type: 'json',
    nullable: options.nullable ?? false,
    default: options.defaultJson === undefined ? undefined : () => `'${options.defaultJson}'`,
    ...(options.select === false ? { select: false } : {}),
  });
}

/** `Float` → DOUBLE: budgets compare as doubles, never DECIMAL (litellm-schema.md §4). */
export function DoubleColumn(options: NullableOption & { readonly default?: number } = {}): PropertyDecorator {
  return Column({ type: 'double', nullable: options.nullable ?? true, default: options.default });
}

/** `Float @default(0.0)`: spend counters. */
export function SpendColumn(): PropertyDecorator {
  return DoubleColumn({ nullable: false, default: 0 });
}

export function IntColumn(options: NullableOption & { readonly default?: number } = {}): PropertyDecorator {
  return Column({ type: 'int', nullable: options.nullable ?? true, default: options.default });
}

/** `BigInt?` (tpm/rpm limits), read as a JS number. */
export function BigIntColumn(): PropertyDecorator {
  return Column({ type: 'bigint', nullable: true, transformer: bigIntTransformer });
}

export function BooleanColumn(options: NullableOption & { readonly default?: boolean } = {}): PropertyDecorator {
  return Column({ type: 'boolean', nullable: options.nullable ?? false, default: options.default });
}

/**
 * `DateTime` → DATETIME(3), UTC (the MySQL connection uses timezone 'Z').
 * `defaultNow` mirrors `@default(now())`.
 */
export function DateTimeColumn(options: NullableOption & { readonly name?: string; readonly defaultNow?: boolean } = {}): PropertyDecorator {
  return Column({
    name: options.name,
    type: 'datetime',
    precision: 3,
    nullable: options.nullable ?? true,
    default: options.defaultNow === true ? () => 'CURRENT_TIMESTAMP' : undefined,
  });
}
