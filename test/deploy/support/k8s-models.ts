/**
 * Kubernetes and Istio objects validated against their OpenAPI/CRD schemas with kubernetes-models
 * (`new Model(doc).validate()` runs the generated JSON-schema validator: required fields, types,
 * enums, formats). Note what it cannot do: Kubernetes schemas do not forbid unknown fields, so a
 * misspelled optional field passes here; the wiring tests read the fields that matter by name, so
 * a misspelling there shows up as a missing value.
 */
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { IstioOperator } from '@kubernetes-models/istio/install.istio.io/v1alpha1/IstioOperator';
import { Gateway } from '@kubernetes-models/istio/networking.istio.io/v1beta1/Gateway';
import { ServiceEntry } from '@kubernetes-models/istio/networking.istio.io/v1beta1/ServiceEntry';
import { VirtualService } from '@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService';
import { AuthorizationPolicy } from '@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy';
import { isObject } from './json';

type ModelClass = new (data: never) => { validate(): void };

/** apiVersion/kind → typed model. A kind missing here fails the test until it is added. */
const MODELS: ReadonlyMap<string, ModelClass> = new Map<string, ModelClass>([
  ['apps/v1/Deployment', Deployment],
  ['batch/v1/Job', Job],
  ['policy/v1/PodDisruptionBudget', PodDisruptionBudget],
  ['v1/ConfigMap', ConfigMap],
  ['v1/Secret', Secret],
  ['v1/Service', Service],
  ['networking.istio.io/v1beta1/Gateway', Gateway],
  ['networking.istio.io/v1beta1/ServiceEntry', ServiceEntry],
  ['networking.istio.io/v1beta1/VirtualService', VirtualService],
  ['security.istio.io/v1/AuthorizationPolicy', AuthorizationPolicy],
  // Its schema in kubernetes-models covers only apiVersion/kind/metadata; spec.meshConfig is
  // checked by support/istio-mesh-config.ts.
  ['install.istio.io/v1alpha1/IstioOperator', IstioOperator],
]);

export function modelKey(doc: unknown): string {
  if (!isObject(doc) || typeof doc.apiVersion !== 'string' || typeof doc.kind !== 'string') {
    throw new Error('not a Kubernetes object (apiVersion and kind are required)');
  }
  return `${doc.apiVersion}/${doc.kind}`;
}

/** Validates one object with its typed model; throws with the schema errors. */
export function validateWithModel(doc: unknown): string {
  const key = modelKey(doc);
  const Model = MODELS.get(key);
  if (Model === undefined) throw new Error(`no kubernetes-models type registered for ${key}`);
  new Model(doc as never).validate();
  return key;
}
