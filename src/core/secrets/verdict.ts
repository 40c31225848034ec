/**
 * The secrets rule in the verdict's shape (src/core/verdict/types.ts), plus the check-run
 * annotations that point at each finding. GitHub accepts at most 50 annotations per check-run
 * request, so they come in batches of 50 for the adapter to send one request each.
 */
import type { RuleResult } from "../verdict/types.js";
import type { SecretFinding } from "./types.js";

export const SECRETS_RULE_ID = "secrets";
/** GitHub's limit of annotations per create/update check-run request. */
export const ANNOTATIONS_PER_REQUEST = 50;

export interface CheckAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: "failure";
  title: string;
  message: string;
}

export interface SecretsVerdictInput {
  enabled: boolean;
  findings: readonly SecretFinding[];
  /** Files scanned (after the allow-list); for the summary. */
  scannedFiles: number;
  /** Files skipped by the allow-list. */
  allowedFiles: readonly string[];
  /** Set when the facts could not be gathered completely: the rule errors (fail closed). */
  factsError?: string;
}

export interface SecretsVerdict {
  result: RuleResult;
  /** Batches of at most ANNOTATIONS_PER_REQUEST annotations, in file and line order. */
  annotationBatches: CheckAnnotation[][];
}

export function secretsRule(input: SecretsVerdictInput): SecretsVerdict {
  const id = SECRETS_RULE_ID;
  const title = "No plaintext secrets";
  if (!input.enabled) {
    return {
      result: {
        id,
        title,
        status: "pass",
        summary: "Secret scanning is off for this branch (secrets.enabled: false).",
        satisfied: [],
        missing: [],
        fix: [],
      },
      annotationBatches: [],
    };
  }
  if (input.factsError !== undefined) {
    return {
      result: {
        id,
        title,
        status: "error",
        summary:
          "The changed files could not be read completely, so they cannot be shown to hold no secrets.",
        satisfied: [],
        missing: [{ kind: "facts", reason: input.factsError }],
        fix: [
          "Re-run the check; if a file is too large to scan, split it or add it to secrets.allow in the base branch's policy.",
        ],
      },
      annotationBatches: [],
    };
  }
  const notes =
    input.allowedFiles.length > 0
      ? [
          `Not scanned (secrets.allow): ${input.allowedFiles.slice(0, 20).join(", ")}${input.allowedFiles.length > 20 ? ` and ${input.allowedFiles.length - 20} more` : ""}.`,
        ]
      : [];
  if (input.findings.length === 0) {
    return {
      result: {
        id,
        title,
        status: "pass",
        summary: `No plaintext credential in ${input.scannedFiles} changed file(s).`,
        satisfied: [],
        missing: [],
        fix: [],
        ...(notes.length > 0 ? { notes } : {}),
      },
      annotationBatches: [],
    };
  }
  const files = [...new Set(input.findings.map((f) => f.file))];
  const annotations: CheckAnnotation[] = input.findings.map((f) => ({
    path: f.file,
    start_line: f.line,
    end_line: f.line,
    annotation_level: "failure",
    title: `Plaintext secret (${f.rule})`,
    message: f.message,
  }));
  const batches: CheckAnnotation[][] = [];
  for (let i = 0; i < annotations.length; i += ANNOTATIONS_PER_REQUEST) {
    batches.push(annotations.slice(i, i + ANNOTATIONS_PER_REQUEST));
  }
  const listed = input.findings.slice(0, 20).map((f) => `${f.file}:${f.line} ${f.rule}: ${f.message}`);
  if (input.findings.length > 20) listed.push(`and ${input.findings.length - 20} more (see the annotations)`);
  return {
    result: {
      id,
      title,
      status: "fail",
      summary: `${input.findings.length} plaintext credential(s) in ${files.length} file(s).`,
      satisfied: [],
      missing: [],
      fix: [
        "Remove the credential from the pull request's commits (rewrite them: a later commit that deletes it leaves it in history), and rotate it: it has been pushed.",
        "Commit Kubernetes Secrets encrypted (SOPS with a `sops:` block, or a SealedSecret), and reference existing Secrets from Helm values and Kustomize.",
        "If a file legitimately holds test credentials, add its path to secrets.allow in the base branch's policy (a sensitive change: a policy admin approves it).",
      ],
      notes: [...listed, ...notes],
    },
    annotationBatches: batches,
  };
}
