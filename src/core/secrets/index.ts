export { addedLines, isAllowed, isBinaryPath, looksBinary } from "./facts.js";
export { isPlaceholder } from "./placeholder.js";
export { MAX_SCANNED_BYTES, scanFile, scanFiles, type ScanInput, type ScanResult } from "./scan.js";
export type { ScannedFile, SecretFinding, SecretRuleId, SecretsPolicy } from "./types.js";
export {
  ANNOTATIONS_PER_REQUEST,
  SECRETS_RULE_ID,
  secretsRule,
  type CheckAnnotation,
  type SecretsVerdict,
  type SecretsVerdictInput,
} from "./verdict.js";
