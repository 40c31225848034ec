/**
 * Validates Kubernetes objects against the JSON schemas the pinned kubernetes-models packages ship,
 * compiled with ajv (standalone code in their _schemas/ folders): the Kubernetes API for the
 * built-in kinds (kubernetes-models 4.5.1), the CRD OpenAPI schemas of Flux (@kubernetes-models/
 * flux-cd 2.3.4) and Argo CD (@kubernetes-models/argo-cd 2.7.2).
 *
 * The Kubernetes OpenAPI does not forbid unknown fields (the API server drops them, or refuses them
 * under `kubectl apply --validate=strict`), so a typo such as `readinesProbe` passes the schema
 * alone. The validator therefore runs over a read-tracking copy of the object: every field the
 * schema declares is read by the compiled validator, so a field it never read is one the schema does
 * not know, and is reported as unknown — what kubeconform's strict mode does.
 */

import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import type { ErrorObject } from "ajv";
import type { K8sObject } from "./kustomize.js";

type CompiledValidator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** apiVersion + kind → the package and schema carrying its definition. Unknown kinds fail. */
const SCHEMAS: Record<string, { pkg: string; schema: string }> = {
  "v1 Service": { pkg: "kubernetes-models", schema: "IoK8sApiCoreV1Service" },
  "v1 PersistentVolumeClaim": { pkg: "kubernetes-models", schema: "IoK8sApiCoreV1PersistentVolumeClaim" },
  "v1 ConfigMap": { pkg: "kubernetes-models", schema: "IoK8sApiCoreV1ConfigMap" },
  "v1 ServiceAccount": { pkg: "kubernetes-models", schema: "IoK8sApiCoreV1ServiceAccount" },
  "apps/v1 Deployment": { pkg: "kubernetes-models", schema: "IoK8sApiAppsV1Deployment" },
  "batch/v1 CronJob": { pkg: "kubernetes-models", schema: "IoK8sApiBatchV1CronJob" },
  "networking.k8s.io/v1 NetworkPolicy": {
    pkg: "kubernetes-models",
    schema: "IoK8sApiNetworkingV1NetworkPolicy",
  },
  "source.toolkit.fluxcd.io/v1 GitRepository": {
    pkg: "@kubernetes-models/flux-cd",
    schema: "SourceToolkitFluxcdIoV1GitRepository",
  },
  "kustomize.toolkit.fluxcd.io/v1 Kustomization": {
    pkg: "@kubernetes-models/flux-cd",
    schema: "KustomizeToolkitFluxcdIoV1Kustomization",
  },
  "argoproj.io/v1alpha1 AppProject": {
    pkg: "@kubernetes-models/argo-cd",
    schema: "ArgoprojIoV1alpha1AppProject",
  },
  "argoproj.io/v1alpha1 Application": {
    pkg: "@kubernetes-models/argo-cd",
    schema: "ArgoprojIoV1alpha1Application",
  },
};

const requireHere = createRequire(import.meta.url);
const cache = new Map<string, CompiledValidator>();

async function validatorFor(apiVersion: string, kind: string): Promise<CompiledValidator> {
  const key = `${apiVersion} ${kind}`;
  const entry = SCHEMAS[key];
  if (!entry) throw new Error(`no schema pinned for ${key}: add it to test/deploy/k8s-schemas.ts`);
  const cached = cache.get(key);
  if (cached) return cached;
  // The packages do not export _schemas/; the files are reached from the package root.
  const root = dirname(requireHere.resolve(entry.pkg));
  const mod = (await import(pathToFileURL(join(root, "_schemas", `${entry.schema}.mjs`)).href)) as {
    validate: CompiledValidator;
  };
  cache.set(key, mod.validate);
  return mod.validate;
}

type Reads = { path: string; keys: string[]; read: Set<string> };

/** A deep copy whose objects record which of their keys were read. Arrays stay arrays. */
function tracked(value: unknown, path: string, all: Reads[]): unknown {
  if (Array.isArray(value)) return value.map((item, i) => tracked(item, `${path}/${i}`, all));
  if (typeof value !== "object" || value === null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) copy[key] = tracked(child, `${path}/${key}`, all);
  const reads: Reads = { path, keys: Object.keys(copy), read: new Set() };
  all.push(reads);
  return new Proxy(copy, {
    get(target, key, receiver) {
      if (typeof key === "string") reads.read.add(key);
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
}

function formatError(error: ErrorObject): string {
  return `${error.instancePath || "/"}: ${error.keyword} ${JSON.stringify(error.params)}`;
}

/** Every schema violation and unknown field of `object`; empty when it is valid. */
export async function validateObject(object: K8sObject): Promise<string[]> {
  const validate = await validatorFor(object.apiVersion, object.kind);
  const reads: Reads[] = [];
  const ok = validate(tracked(object, "", reads));
  const problems = ok ? [] : (validate.errors ?? []).map(formatError);
  const unknown: string[] = [];
  for (const { path, keys, read } of reads)
    for (const key of keys) if (!read.has(key)) unknown.push(`${path}/${key}`);
  // The fields inside an unknown field were never read either: report the outermost one only.
  for (const path of unknown)
    if (!unknown.some((outer) => path.startsWith(`${outer}/`))) problems.push(`${path}: unknown field`);
  return problems;
}
