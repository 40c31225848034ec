/**
 * A small Kustomize renderer for the manifests under deploy/: only the features they use —
 * `resources` (files and directories), `components`, `namespace`, `images` and inline JSON 6902
 * `patches` with a `target`. Anything else in a kustomization.yaml is an error rather than ignored,
 * so a manifest never relies on a feature this renderer would silently skip (the real `kustomize`
 * would apply it, and the test would validate something else than what is deployed).
 */

import { existsSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import yaml from "js-yaml";

export type K8sObject = Record<string, unknown> & { apiVersion: string; kind: string };

export class KustomizeError extends Error {
  override readonly name = "KustomizeError";
}

const KUSTOMIZATION = { apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization" };
const COMPONENT = { apiVersion: "kustomize.config.k8s.io/v1alpha1", kind: "Component" };
const SUPPORTED_KEYS = new Set([
  "apiVersion",
  "kind",
  "namespace",
  "resources",
  "components",
  "images",
  "patches",
]);
/** Kinds kustomize's namespace transformer leaves alone (the ones deploy/ could plausibly hold). */
const CLUSTER_SCOPED = new Set([
  "Namespace",
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
  "PersistentVolume",
  "StorageClass",
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringList(value: unknown, what: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === "string"))
    throw new KustomizeError(`${what} must be a list of strings`);
  return value;
}

function relativePath(dir: string, entry: string, what: string): string {
  if (isAbsolute(entry) || /^[a-z]+:\/\//i.test(entry))
    throw new KustomizeError(`${what} ${entry}: only relative paths are supported`);
  return resolve(dir, entry);
}

/** Every document of a YAML file, each a Kubernetes object. */
export function loadObjects(file: string): K8sObject[] {
  const docs = yaml.loadAll(readFileSync(file, "utf8")).filter((doc) => doc !== null && doc !== undefined);
  return docs.map((doc, i) => {
    if (!isRecord(doc) || typeof doc.apiVersion !== "string" || typeof doc.kind !== "string")
      throw new KustomizeError(`${file} document ${i + 1} is not a Kubernetes object (apiVersion, kind)`);
    return doc as K8sObject;
  });
}

function readKustomization(dir: string, expected: typeof KUSTOMIZATION): Record<string, unknown> {
  const file = join(dir, "kustomization.yaml");
  if (!existsSync(file)) throw new KustomizeError(`${dir} has no kustomization.yaml`);
  const doc = yaml.load(readFileSync(file, "utf8"));
  if (!isRecord(doc)) throw new KustomizeError(`${file} is not a mapping`);
  if (doc.apiVersion !== expected.apiVersion || doc.kind !== expected.kind)
    throw new KustomizeError(
      `${file} must be ${expected.apiVersion} ${expected.kind}, not ${String(doc.apiVersion)} ${String(doc.kind)}`,
    );
  for (const key of Object.keys(doc))
    if (!SUPPORTED_KEYS.has(key))
      throw new KustomizeError(`${file}: ${key} is not supported by this renderer`);
  return doc;
}

function setNamespace(objects: K8sObject[], namespace: unknown, file: string): void {
  if (namespace === undefined) return;
  if (typeof namespace !== "string" || namespace === "")
    throw new KustomizeError(`${file}: namespace must be a string`);
  for (const object of objects) {
    if (CLUSTER_SCOPED.has(object.kind)) continue;
    const metadata = isRecord(object.metadata) ? object.metadata : {};
    object.metadata = { ...metadata, namespace };
  }
}

/** The containers of every pod template (workloads, Jobs, CronJobs). */
function containersOf(object: K8sObject): Record<string, unknown>[] {
  const spec = isRecord(object.spec) ? object.spec : undefined;
  const jobTemplate = spec && isRecord(spec.jobTemplate) ? spec.jobTemplate : undefined;
  const template = jobTemplate
    ? isRecord(jobTemplate.spec) && isRecord(jobTemplate.spec.template)
      ? jobTemplate.spec.template
      : undefined
    : spec && isRecord(spec.template)
      ? spec.template
      : undefined;
  const podSpec = template && isRecord(template.spec) ? template.spec : undefined;
  if (!podSpec) return [];
  return [podSpec.initContainers, podSpec.containers].flatMap((list) =>
    Array.isArray(list) ? list.filter(isRecord) : [],
  );
}

/** `name[:tag][@digest]` → name (a registry port, `host:5000/x`, is not a tag). */
function imageName(image: string): string {
  const noDigest = image.split("@")[0] ?? image;
  const slash = noDigest.lastIndexOf("/");
  const colon = noDigest.lastIndexOf(":");
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

function setImages(objects: K8sObject[], images: unknown, file: string): void {
  if (images === undefined) return;
  if (!Array.isArray(images)) throw new KustomizeError(`${file}: images must be a list`);
  for (const image of images) {
    if (!isRecord(image) || typeof image.name !== "string")
      throw new KustomizeError(`${file}: each image needs a name`);
    for (const key of Object.keys(image))
      if (!["name", "newName", "newTag", "digest"].includes(key))
        throw new KustomizeError(`${file}: image field ${key} is not supported`);
    for (const container of objects.flatMap(containersOf)) {
      if (typeof container.image !== "string" || imageName(container.image) !== image.name) continue;
      const name = typeof image.newName === "string" ? image.newName : image.name;
      if (typeof image.digest === "string") container.image = `${name}@${image.digest}`;
      else if (typeof image.newTag === "string") container.image = `${name}:${image.newTag}`;
      else container.image = name + container.image.slice(image.name.length);
    }
  }
}

function pointer(path: string): string[] {
  if (!path.startsWith("/")) throw new KustomizeError(`JSON pointer ${path} must start with /`);
  return path
    .slice(1)
    .split("/")
    .map((token) => token.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** RFC 6902 add, replace and remove: the operations deploy/ uses. */
function applyJsonPatch(object: K8sObject, ops: unknown, where: string): void {
  if (!Array.isArray(ops))
    throw new KustomizeError(`${where}: a patch must be a JSON 6902 list of operations`);
  for (const op of ops) {
    if (!isRecord(op) || typeof op.op !== "string" || typeof op.path !== "string")
      throw new KustomizeError(`${where}: each operation needs op and path`);
    const tokens = pointer(op.path);
    const last = tokens.pop();
    if (last === undefined) throw new KustomizeError(`${where}: cannot ${op.op} the whole object`);
    let parent: unknown = object;
    for (const token of tokens) {
      parent = Array.isArray(parent) ? parent[Number(token)] : isRecord(parent) ? parent[token] : undefined;
      if (parent === undefined) throw new KustomizeError(`${where}: ${op.path}: ${token} does not exist`);
    }
    if (Array.isArray(parent)) {
      const index = last === "-" ? parent.length : Number(last);
      if (
        !Number.isInteger(index) ||
        index < 0 ||
        index > parent.length ||
        (op.op !== "add" && index >= parent.length)
      )
        throw new KustomizeError(`${where}: ${op.path}: index out of range`);
      if (op.op === "add") parent.splice(index, 0, structuredClone(op.value));
      else if (op.op === "replace") parent[index] = structuredClone(op.value);
      else if (op.op === "remove") parent.splice(index, 1);
      else throw new KustomizeError(`${where}: op ${op.op} is not supported`);
    } else if (isRecord(parent)) {
      if (op.op !== "add" && !(last in parent))
        throw new KustomizeError(`${where}: ${op.path} does not exist`);
      if (op.op === "add" || op.op === "replace") parent[last] = structuredClone(op.value);
      else if (op.op === "remove") delete parent[last];
      else throw new KustomizeError(`${where}: op ${op.op} is not supported`);
    } else throw new KustomizeError(`${where}: ${op.path}: parent is not an object or a list`);
  }
}

function applyPatches(objects: K8sObject[], patches: unknown, file: string): void {
  if (patches === undefined) return;
  if (!Array.isArray(patches)) throw new KustomizeError(`${file}: patches must be a list`);
  for (const patch of patches) {
    if (!isRecord(patch) || typeof patch.patch !== "string" || !isRecord(patch.target))
      throw new KustomizeError(`${file}: only inline patches (patch:) with a target are supported`);
    const target = patch.target;
    for (const key of Object.keys(target))
      if (!["group", "version", "kind", "name"].includes(key))
        throw new KustomizeError(`${file}: patch target field ${key} is not supported`);
    const matches = objects.filter((object) => {
      const [group, version] = object.apiVersion.includes("/")
        ? object.apiVersion.split("/")
        : ["", object.apiVersion];
      const name = isRecord(object.metadata) ? object.metadata.name : undefined;
      return (
        (target.group === undefined || target.group === group) &&
        (target.version === undefined || target.version === version) &&
        (target.kind === undefined || target.kind === object.kind) &&
        (target.name === undefined || target.name === name)
      );
    });
    // kustomize applies a patch that matches nothing without a word; here it is a broken manifest.
    if (matches.length === 0)
      throw new KustomizeError(`${file}: patch target ${JSON.stringify(target)} matches nothing`);
    const ops = yaml.load(patch.patch);
    for (const object of matches) applyJsonPatch(object, ops, file);
  }
}

/** One kustomization (or component) layer over `inherited`, the objects accumulated before it. */
function renderLayer(dir: string, expected: typeof KUSTOMIZATION, inherited: K8sObject[]): K8sObject[] {
  const file = join(dir, "kustomization.yaml");
  const doc = readKustomization(dir, expected);
  let objects = [...inherited];
  for (const entry of stringList(doc.resources, `${file}: resources`)) {
    const path = relativePath(dir, entry, `${file}: resource`);
    if (!existsSync(path)) throw new KustomizeError(`${file}: resource ${entry} does not exist`);
    objects.push(...(statSync(path).isDirectory() ? renderKustomization(path) : loadObjects(path)));
  }
  // Components run after the resources, each over everything accumulated so far.
  for (const entry of stringList(doc.components, `${file}: components`))
    objects = renderLayer(relativePath(dir, entry, `${file}: component`), COMPONENT, objects);
  applyPatches(objects, doc.patches, file);
  setNamespace(objects, doc.namespace, file);
  setImages(objects, doc.images, file);
  return objects;
}

/** The objects `kustomize build DIR` prints, for the features listed at the top of this file. */
export function renderKustomization(dir: string): K8sObject[] {
  const objects = renderLayer(dir, KUSTOMIZATION, []).map((object) => structuredClone(object));
  const ids = new Set<string>();
  for (const object of objects) {
    const metadata = isRecord(object.metadata) ? object.metadata : {};
    const id = `${object.apiVersion} ${object.kind} ${String(metadata.namespace ?? "")}/${String(metadata.name)}`;
    if (ids.has(id)) throw new KustomizeError(`${dir}: ${id} is defined twice`);
    ids.add(id);
  }
  return objects;
}
