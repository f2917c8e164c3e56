/**
 * Field numbers as the loaded Envoy protos define them, so a hand-written codec's numbers are
 * checked against the .proto files rather than against a second hand-written table.
 */
import { expect } from 'chai';
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
