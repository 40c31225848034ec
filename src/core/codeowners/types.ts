/** One CODEOWNERS rule: a pattern and its owners ("@user", "@org/team", "user@example.com"). */
export interface CodeownersRule {
  pattern: string;
  owners: string[];
  /** 1-based line in the file. */
  line: number;
}

/** Error kinds modelled on GitHub's `GET /repos/{o}/{r}/codeowners/errors`. */
export type CodeownersErrorKind =
  "Unsupported syntax" | "Invalid owner" | "Invalid pattern" | "File too large" | "Unknown owner";

export interface CodeownersError {
  kind: CodeownersErrorKind;
  line: number;
  column: number;
  message: string;
  /** The offending source line. */
  source: string;
}

export interface ParsedCodeowners {
  rules: CodeownersRule[];
  errors: CodeownersError[];
}

export interface OwnersMatch {
  /** Owners of the last matching rule; [] if the rule has no owners (explicitly unowned) or nothing matched. */
  owners: string[];
  /** Line of the matching rule, or null if none matched. */
  line: number | null;
}

/** Compiled once per CODEOWNERS file; ownersOf is called for every changed path. */
export interface CodeownersMatcher {
  ownersOf(path: string): OwnersMatch;
}
