/**
 * The YAML side: Kubernetes Secret objects, Kustomize secretGenerator literals and Helm values.
 * Files are split into documents at `---` lines, each document loaded with positions so a
 * finding names the line of the value itself, not of the document.
 */
import yaml from "js-yaml";
import { joinPointer, loadYamlWithPositions } from "../policy/yaml-positions.js";
import type { PositionMap } from "../policy/yaml-positions.js";
import { decodeBase64, isPlaceholder } from "./placeholder.js";
import type { SecretFinding } from "./types.js";

export interface YamlDocument {
  /** 0-based line of the document's first line in the file. */
  lineOffset: number;
  text: string;
}

/** Splits at document markers (`---` or `...` alone at the start of a line). */
export function splitDocuments(text: string): YamlDocument[] {
  const lines = text.split(/\r\n|\n|\r/);
  const documents: YamlDocument[] = [];
  let start = 0;
  const flush = (end: number) => {
    const body = lines.slice(start, end);
    if (body.some((l) => l.trim() !== "" && !l.trimStart().startsWith("#"))) {
      documents.push({ lineOffset: start, text: body.join("\n") });
    }
  };
  lines.forEach((line, index) => {
    if (/^(?:---|\.\.\.)(?:\s|$)/.test(line)) {
      flush(index);
      // "--- value" starts a document on the marker line: keep that line, blanking the marker.
      start = index;
      lines[index] = line.startsWith("---") ? "   " + line.slice(3) : "";
    }
  });
  flush(lines.length);
  return documents;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

const SOPS_VALUE =
  /^ENC\[[A-Za-z0-9_]+,data:[A-Za-z0-9+/=]*,iv:[A-Za-z0-9+/=]+,tag:[A-Za-z0-9+/=]+,type:[a-z]+\]$/;

/** A SOPS file carries `sops:` metadata with a MAC; its encrypted values are ENC[...]. */
function isSopsEncrypted(object: Record<string, unknown>): boolean {
  const sops = object["sops"];
  return isRecord(sops) && typeof sops["mac"] === "string" && SOPS_VALUE.test(sops["mac"]);
}

export function scanYaml(file: string, text: string): SecretFinding[] {
  const findings: SecretFinding[] = [];
  const helm = /(?:^|\/)values(?:[-.][^/]*)?\.ya?ml$/.test(file);
  for (const document of splitDocuments(text)) {
    const loaded = loadYamlWithPositions(document.text);
    const lineOf = (positions: PositionMap, pointer: string) =>
      positions.valueAt(pointer).line + document.lineOffset;
    if (!loaded.ok) {
      // Fail closed only where it matters: a Secret we cannot read might hold anything.
      // Block, flow and JSON style alike ("kind: Secret # x", {kind: Secret}, "kind": "Secret").
      if (/\bkind["']?\s*:\s*["']?Secret\b/.test(document.text)) {
        findings.push({
          file,
          line: loaded.position.line + document.lineOffset,
          rule: "kubernetes-secret-unreadable",
          message:
            "A Kubernetes Secret that cannot be parsed as YAML, so it cannot be shown to hold no plaintext.",
        });
      }
      if (helm) findings.push(...helmValuesWithoutPositions(file, document));
      continue;
    }
    const object = loaded.value;
    if (!isRecord(object)) continue;
    const at = (pointer: string) => lineOf(loaded.positions, pointer);
    findings.push(...kubernetesObject(file, object, "", at, 0));
    if (object["kind"] === "Kustomization" || /(?:^|\/)kustomization\.ya?ml$/.test(file)) {
      findings.push(...kustomizeLiterals(file, object, at));
    }
    if (helm) findings.push(...helmValues(file, object, "", at, 0));
  }
  return findings;
}

/**
 * A Secret, a Secret inside a List (kubectl's `kind: List` / `*List` with `items`), or a Flux
 * HelmRelease whose inline `spec.values` are Helm values like any values file.
 */
function kubernetesObject(
  file: string,
  object: Record<string, unknown>,
  pointer: string,
  at: (pointer: string) => number,
  depth: number,
): SecretFinding[] {
  const kind = object["kind"];
  if (typeof kind !== "string" || depth > 8) return [];
  if (kind === "Secret") return secretObject(file, object, pointer, at);
  const findings: SecretFinding[] = [];
  const items = object["items"];
  if (kind.endsWith("List") && Array.isArray(items)) {
    items.forEach((item: unknown, i) => {
      if (isRecord(item))
        findings.push(...kubernetesObject(file, item, joinPointer(pointer, "items", i), at, depth + 1));
    });
  }
  const spec = object["spec"];
  if (kind === "HelmRelease" && isRecord(spec) && isRecord(spec["values"])) {
    findings.push(...helmValues(file, spec["values"], joinPointer(pointer, "spec", "values"), at, 0));
  }
  return findings;
}

function secretObject(
  file: string,
  object: Record<string, unknown>,
  pointer: string,
  at: (pointer: string) => number,
): SecretFinding[] {
  const sops = isSopsEncrypted(object);
  const findings: SecretFinding[] = [];
  for (const field of ["data", "stringData"] as const) {
    const values = object[field];
    if (!isRecord(values)) continue;
    for (const [key, raw] of Object.entries(values)) {
      if (raw === null || raw === undefined) continue;
      const value = typeof raw === "string" ? raw : String(raw);
      if (sops && SOPS_VALUE.test(value)) continue;
      const plain = field === "data" ? (decodeBase64(value) ?? value) : value;
      if (isPlaceholder(value) || isPlaceholder(plain)) continue;
      findings.push({
        file,
        line: at(joinPointer(pointer, field, key)),
        rule: "kubernetes-secret",
        message: `Secret ${field}.${safeName(key)} is in plaintext${field === "data" ? " (base64 is an encoding, not encryption)" : ""}${sops ? " although the file has SOPS metadata" : ""}: encrypt it with SOPS or use a SealedSecret.`,
      });
    }
  }
  return findings;
}

function kustomizeLiterals(
  file: string,
  object: Record<string, unknown>,
  at: (pointer: string) => number,
): SecretFinding[] {
  const generators = object["secretGenerator"];
  if (!Array.isArray(generators)) return [];
  const findings: SecretFinding[] = [];
  generators.forEach((generator: unknown, g) => {
    if (!isRecord(generator)) return;
    const literals = generator["literals"];
    if (!Array.isArray(literals)) return;
    literals.forEach((literal: unknown, l) => {
      if (typeof literal !== "string") return;
      const eq = literal.indexOf("=");
      if (eq <= 0) return;
      const value = literal.slice(eq + 1).replace(/^(["'])(.*)\1$/, "$2");
      if (isPlaceholder(value)) return;
      findings.push({
        file,
        line: at(joinPointer("", "secretGenerator", g, "literals", l)),
        rule: "kustomize-secret-literal",
        message: `secretGenerator literal ${safeName(literal.slice(0, eq))} is in plaintext: generate it from a SOPS-encrypted file (e.g. with KSOPS) instead.`,
      });
    });
  });
  return findings;
}

/** The env files a kustomization's secretGenerator reads, relative to the kustomization's folder. */
export function kustomizeEnvFiles(file: string, text: string): string[] {
  const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/") + 1) : "";
  const out: string[] = [];
  for (const document of splitDocuments(text)) {
    const loaded = loadYamlWithPositions(document.text);
    if (!loaded.ok || !isRecord(loaded.value)) continue;
    const generators = loaded.value["secretGenerator"];
    if (!Array.isArray(generators)) continue;
    for (const generator of generators as unknown[]) {
      if (!isRecord(generator)) continue;
      const envs = [
        ...(Array.isArray(generator["envs"]) ? (generator["envs"] as unknown[]) : []),
        generator["env"],
      ];
      for (const env of envs) if (typeof env === "string") out.push(normalize(dir + env));
    }
  }
  return out;
}

/**
 * The files a kustomization's secretGenerator copies verbatim into a Secret (`files: [path]` or
 * `files: [key=path]`), relative to the kustomization's folder.
 */
export function kustomizeSecretFiles(file: string, text: string): string[] {
  const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/") + 1) : "";
  const out: string[] = [];
  for (const document of splitDocuments(text)) {
    const loaded = loadYamlWithPositions(document.text);
    if (!loaded.ok || !isRecord(loaded.value)) continue;
    const generators = loaded.value["secretGenerator"];
    if (!Array.isArray(generators)) continue;
    for (const generator of generators as unknown[]) {
      if (!isRecord(generator) || !Array.isArray(generator["files"])) continue;
      for (const entry of generator["files"] as unknown[]) {
        if (typeof entry !== "string") continue;
        const path = entry.includes("=") ? entry.slice(entry.indexOf("=") + 1) : entry;
        out.push(normalize(dir + path));
      }
    }
  }
  return out;
}

function normalize(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return parts.join("/");
}

/** A file a secretGenerator copies into a Secret: anything but an empty or placeholder file is a credential. */
export function scanSecretFile(file: string, text: string): SecretFinding[] {
  if (isPlaceholder(text)) return [];
  const first = text.split(/\r\n|\n|\r/).findIndex((l) => l.trim() !== "");
  return [
    {
      file,
      line: first + 1,
      rule: "kustomize-secret-file",
      message:
        "A file a secretGenerator turns into a Secret is committed in plaintext: encrypt it with SOPS (e.g. with KSOPS).",
    },
  ];
}

/** KEY=value lines of an env file a secretGenerator turns into a Secret. */
export function scanEnvFile(file: string, text: string): SecretFinding[] {
  const findings: SecretFinding[] = [];
  text.split(/\r\n|\n|\r/).forEach((line, index) => {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=(.*)$/.exec(line);
    if (match === null) return;
    const value = (match[2] ?? "").trim().replace(/^(["'])(.*)\1$/, "$2");
    if (isPlaceholder(value)) return;
    findings.push({
      file,
      line: index + 1,
      rule: "kustomize-secret-env",
      message: `${safeName(match[1] ?? "")} in an env file a secretGenerator reads is in plaintext: encrypt the file with SOPS.`,
    });
  });
  return findings;
}

/** password, db_password, auth.password and camelCase postgresPassword, clientSecret, apiKey. */
const CREDENTIAL_KEY =
  /(?:^|[_.-])(?:password|passwd|secret|token|api[_-]?key|private[_-]?key|client[_-]?secret|access[_-]?key)$/i;
const CREDENTIAL_KEY_CAMEL =
  /[a-z0-9](?:Password|Passwd|Secret|Token|ApiKey|PrivateKey|ClientSecret|AccessKey)$/;
/** Keys that name where a secret is, not the secret: existingSecret, secretName, tokenFile... */
const REFERENCE_KEY = /existing|(?:name|ref|file|path|key[_-]?ref|from|enabled|length|mount|env|type)$/i;

function isCredentialKey(key: string): boolean {
  return (CREDENTIAL_KEY.test(key) || CREDENTIAL_KEY_CAMEL.test(key)) && !REFERENCE_KEY.test(key);
}

/**
 * Values files may use anchors and aliases, which the position loader refuses: load them plainly
 * so `password: *anchor` is still checked, placing each finding on the first line that writes its
 * key. An alias can make a small file expand exponentially, so the walk has a node budget, and a
 * file over it fails closed.
 */
function helmValuesWithoutPositions(file: string, document: YamlDocument): SecretFinding[] {
  let value: unknown;
  try {
    value = yaml.load(document.text, { schema: yaml.CORE_SCHEMA, json: false });
  } catch {
    return []; // Not YAML: Helm itself refuses the file.
  }
  const lines = document.text.split("\n");
  const at = (pointer: string) => {
    const key = pointer
      .slice(pointer.lastIndexOf("/") + 1)
      .replace(/~1/g, "/")
      .replace(/~0/g, "~");
    const index = lines.findIndex((line) => {
      const match = /^\s*(?:-\s+)?["']?([^"':#]+?)["']?\s*:(?:\s|$)/.exec(line);
      return match?.[1] === key;
    });
    return (index < 0 ? 0 : index) + 1 + document.lineOffset;
  };
  const budget = { left: HELM_NODE_BUDGET };
  const findings = helmValues(file, value, "", at, 0, budget);
  if (budget.left < 0) {
    return [
      {
        file,
        line: document.lineOffset + 1,
        rule: "helm-value",
        message:
          "Helm values that expand (through YAML aliases) beyond what can be checked: write the values out.",
      },
    ];
  }
  return findings;
}

/** Nodes walked in one values document loaded without positions (aliases may share subtrees). */
const HELM_NODE_BUDGET = 20_000;

function helmValues(
  file: string,
  value: unknown,
  pointer: string,
  at: (pointer: string) => number,
  depth: number,
  budget: { left: number } = { left: Number.POSITIVE_INFINITY },
): SecretFinding[] {
  if (depth > 32 || --budget.left < 0) return [];
  const findings: SecretFinding[] = [];
  // Lists of objects hold credentials too (users: [{name, password}]).
  if (Array.isArray(value)) {
    value.forEach((item: unknown, i) =>
      findings.push(...helmValues(file, item, joinPointer(pointer, i), at, depth + 1, budget)),
    );
    return findings;
  }
  if (!isRecord(value)) return [];
  for (const [key, child] of Object.entries(value)) {
    const childPointer = joinPointer(pointer, key);
    if (isRecord(child) || Array.isArray(child)) {
      findings.push(...helmValues(file, child, childPointer, at, depth + 1, budget));
      continue;
    }
    if (typeof child !== "string" || !isCredentialKey(key)) continue;
    if (isPlaceholder(child) || child.length < 8) continue;
    findings.push({
      file,
      line: at(childPointer),
      rule: "helm-value",
      message: `Helm value ${safeName(childPointer.slice(1).replace(/\//g, "."))} holds a plaintext credential: reference an existing Secret instead.`,
    });
  }
  return findings;
}

/** Key names are shown, but bounded and stripped of anything that could smuggle a value. */
function safeName(key: string): string {
  const clean = key.replace(/[^A-Za-z0-9_.-]/g, "?");
  return clean.length > 60 ? `${clean.slice(0, 60)}…` : clean;
}
