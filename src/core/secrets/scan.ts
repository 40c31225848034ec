/**
 * The no-secrets-in-Git scanner: pure, given the files a pull request adds or changes (path and
 * text), it finds plaintext credentials. See docs/policy.md, "secrets".
 *
 * What passes: SOPS-encrypted files (values ENC[...] under `sops:` metadata with a MAC),
 * SealedSecrets (kind SealedSecret, never matched as a Secret), empty values and placeholders.
 */
import type { PatternMatcher } from "../reviews/pattern.js";
import { scanTokens } from "./tokens.js";
import type { ScannedFile, SecretFinding } from "./types.js";
import { kustomizeEnvFiles, scanEnvFile, scanYaml } from "./yaml.js";

/** Files larger than this are not scanned line by line here; the fact gatherer refuses them first. */
export const MAX_SCANNED_BYTES = 1024 * 1024;

export interface ScanInput {
  files: readonly ScannedFile[];
  /** Patterns (CODEOWNERS-style) of files allowed to hold credentials. */
  allow: readonly string[];
  matchesPattern: PatternMatcher;
}

export function scanFiles(input: ScanInput): SecretFinding[] {
  const allowed = (path: string) => input.allow.some((pattern) => input.matchesPattern(pattern, path));
  // A secretGenerator's env files are Secrets in disguise: find which files those are first.
  const envFiles = new Set<string>();
  for (const file of input.files) {
    if (/(?:^|\/)kustomization\.ya?ml$/.test(file.path)) {
      for (const env of kustomizeEnvFiles(file.path, file.text)) envFiles.add(env);
    }
  }
  const findings: SecretFinding[] = [];
  for (const file of input.files) {
    if (allowed(file.path)) continue;
    const found = scanFile(file.path, file.text, envFiles.has(file.path));
    const changed = file.changedLines;
    findings.push(...(changed === undefined ? found : found.filter((f) => changed.has(f.line))));
  }
  return dedupe(findings).sort((a, b) =>
    a.file === b.file ? a.line - b.line || a.rule.localeCompare(b.rule) : a.file < b.file ? -1 : 1,
  );
}

export function scanFile(path: string, text: string, isEnvFile = false): SecretFinding[] {
  const lines = text.split(/\r\n|\n|\r/);
  const findings = scanTokens(path, lines);
  if (/\.ya?ml$/i.test(path)) findings.push(...scanYaml(path, text));
  if (isEnvFile) findings.push(...scanEnvFile(path, text));
  return findings;
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
