/** One plaintext credential found in a file. Never carries the secret itself. */
export interface SecretFinding {
  file: string;
  /** 1-based line of the secret in the file. */
  line: number;
  /** Stable rule id, e.g. "kubernetes-secret", "pem-private-key", "github-token". */
  rule: SecretRuleId;
  /** What was found and where, without any byte of the secret. */
  message: string;
}

export type SecretRuleId =
  | "kubernetes-secret"
  | "kubernetes-secret-unreadable"
  | "pem-private-key"
  | "gcp-service-account-key"
  | "aws-access-key"
  | "github-token"
  | "slack-token"
  | "google-api-key"
  | "kustomize-secret-literal"
  | "kustomize-secret-env"
  | "kustomize-secret-file"
  | "helm-value";

export interface ScannedFile {
  path: string;
  text: string;
  /**
   * 1-based lines the pull request added or changed; findings on other lines are not reported
   * (the secret was already there before this PR). Omitted: the whole file is new.
   */
  changedLines?: ReadonlySet<number>;
}

/** The policy's `secrets` section, resolved (defined with the rest of the policy model). */
export type { SecretsPolicy } from "../policy/types.js";
