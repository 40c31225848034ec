/**
 * The no-secrets-in-Git scanner: pure, given the files a pull request adds or changes (path and
 * text), it finds plaintext credentials. See docs/policy.md, "secrets".
 *
 * What passes: SOPS-encrypted files (values ENC[...] under `sops:` metadata with a MAC),
 * SealedSecrets (kind SealedSecret, never matched as a Secret), empty values and placeholders.
 */
import type { PatternMatcher } from "../reviews/pattern.js";
import { isAllowed } from "./facts.js";
import { scanTokens } from "./tokens.js";
import type { ScannedFile, SecretFinding } from "./types.js";
import { kustomizeEnvFiles, kustomizeSecretFiles, scanEnvFile, scanSecretFile, scanYaml } from "./yaml.js";

/** Files larger than this are not scanned line by line here; the fact gatherer refuses them first. */
export const MAX_SCANNED_BYTES = 1024 * 1024;

export interface ScanInput {
  files: readonly ScannedFile[];
  /** Patterns (CODEOWNERS-style) of files allowed to hold credentials. */
  allow: readonly string[];
  matchesPattern: PatternMatcher;
}

export interface ScanResult {
  findings: SecretFinding[];
  /** Files scanned (not allow-listed). */
  scannedFiles: number;
  /** Files skipped by the allow-list, sorted. */
  allowedFiles: string[];
  /** Set when a file was too large to scan: the rule must error, not pass (fail closed). */
  factsError?: string;
}

export function scanFiles(input: ScanInput): ScanResult {
  // A pattern the matcher refuses (PatternError) allows nothing: the file is scanned (fail closed).
  const allowed = (path: string) => isAllowed(input.allow, input.matchesPattern, path);
  // A secretGenerator's env and source files are Secrets in disguise: find which files those are first.
  const envFiles = new Set<string>();
  const secretFiles = new Set<string>();
  for (const file of input.files) {
    if (/(?:^|\/)kustomization\.ya?ml$/.test(file.path)) {
      for (const env of kustomizeEnvFiles(file.path, file.text)) envFiles.add(env);
      for (const source of kustomizeSecretFiles(file.path, file.text)) secretFiles.add(source);
    }
  }
  const findings: SecretFinding[] = [];
  const allowedFiles: string[] = [];
  const tooLarge: string[] = [];
  let scannedFiles = 0;
  for (const file of input.files) {
    if (allowed(file.path)) {
      allowedFiles.push(file.path);
      continue;
    }
    scannedFiles++;
    if (Buffer.byteLength(file.text, "utf8") > MAX_SCANNED_BYTES) {
      tooLarge.push(file.path);
      continue;
    }
    const found = scanFile(file.path, file.text, {
      envFile: envFiles.has(file.path),
      secretFile: secretFiles.has(file.path),
    });
    const changed = file.changedLines;
    findings.push(...(changed === undefined ? found : found.filter((f) => changed.has(f.line))));
  }
  const sorted = findings.sort((a, b) =>
    a.file === b.file ? a.line - b.line || a.rule.localeCompare(b.rule) : a.file < b.file ? -1 : 1,
  );
  return {
    findings: sorted,
    scannedFiles,
    allowedFiles: allowedFiles.sort(),
    ...(tooLarge.length > 0
      ? {
          factsError: `${tooLarge.length} file(s) larger than ${MAX_SCANNED_BYTES} bytes were not scanned: ${tooLarge.slice(0, 5).join(", ")}`,
        }
      : {}),
  };
}

/** Kubernetes manifests may be JSON as well as YAML; JSON is YAML, so both go through the YAML side. */
const STRUCTURED = /\.(?:ya?ml|json)$/i;

export function scanFile(
  path: string,
  text: string,
  role: { envFile?: boolean; secretFile?: boolean } = {},
): SecretFinding[] {
  const lines = text.split(/\r\n|\n|\r/);
  const findings = scanTokens(path, lines);
  if (STRUCTURED.test(path)) findings.push(...scanYaml(path, text));
  if (role.envFile === true) findings.push(...scanEnvFile(path, text));
  else if (role.secretFile === true) findings.push(...scanSecretFile(path, text));
  return dedupe(findings).sort((a, b) => a.line - b.line || a.rule.localeCompare(b.rule));
}

/** One finding per file, line and rule: a Secret value that is also a GitHub token is reported once per rule. */
function dedupe(findings: SecretFinding[]): SecretFinding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.file}\u0000${f.line}\u0000${f.rule}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
