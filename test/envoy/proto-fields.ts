/**
 * For the hand-written protobuf codecs' tests: field numbers as the loaded Envoy protos define them
 * (checked against the .proto files, not a second hand-written table), and generated Struct values.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { Json } from '../../src/domain/entities';
import { authorizationPackage } from '../../src/envoy/protos';

interface FieldDescriptor {
  readonly name: string;
  readonly number: number;
}

interface TypeDescriptor {
  readonly name?: string;
  readonly field?: FieldDescriptor[];
  readonly nestedType?: TypeDescriptor[];
}

/** Top-level types are in the package definition; nested ones (AttributeContext.Peer) inside their parent. */
export function protoFieldsOf(typeName: string): Record<string, number> {
  const top = authorizationPackage()[typeName] as { type?: TypeDescriptor } | undefined;
  const parentName = typeName.slice(0, typeName.lastIndexOf('.'));
  const parent = authorizationPackage()[parentName] as { type?: TypeDescriptor } | undefined;
  const nested = parent?.type?.nestedType?.find((type) => type.name === typeName.slice(parentName.length + 1));
  const fields = (top?.type ?? nested)?.field;
  if (fields === undefined) throw new Error(`${typeName} not in the loaded protos`);
  return Object.fromEntries(fields.map((field) => [field.name, field.number]));
}

/** Every `ours[kind][field]` number equals the proto's, for each [kind, proto type name] pair. */
export function expectProtoFieldNumbers(
  ours: Readonly<Record<string, Readonly<Record<string, number>>>>,
  pairs: ReadonlyArray<readonly [string, string]>,
): void {
  for (const [kind, typeName] of pairs) {
    const proto = protoFieldsOf(typeName);
    for (const [name, number] of Object.entries(ours[kind] ?? {})) expect(proto[name], `${typeName}.${name}`).to.equal(number);
  }
}

/** Struct-shaped JSON: null, booleans, finite numbers, strings from `text`, small arrays and objects. */
export function jsonValues(text: fc.Arbitrary<string>): fc.Arbitrary<Json> {
  return fc.letrec<{ value: Json }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant(null),
      fc.boolean(),
      fc.double({ noNaN: true }),
      text,
      fc.array(tie('value'), { maxLength: 3 }),
      fc.dictionary(text, tie('value'), { maxKeys: 3 }),
    ),
  })).value;
}
