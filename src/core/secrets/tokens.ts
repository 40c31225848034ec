/**
 * Well-known token formats, matched line by line. Each pattern is anchored on a vendor prefix
 * and an exact length or alphabet, so arbitrary base64 or hashes do not match; a token made of a
 * repeated character or containing EXAMPLE (as in vendors' own docs) is a placeholder.
 */
import { isPlaceholder } from "./placeholder.js";
import type { SecretFinding, SecretRuleId } from "./types.js";

interface TokenPattern {
  rule: SecretRuleId;
  name: string;
  regexp: RegExp;
}

const TOKEN_PATTERNS: readonly TokenPattern[] = [
  {
    rule: "github-token",
    name: "GitHub token",
    regexp: /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36}(?![A-Za-z0-9_])/g,
  },
  {
    rule: "github-token",
    name: "GitHub fine-grained personal access token",
    regexp: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}(?![A-Za-z0-9_])/g,
  },
  {
    rule: "slack-token",
    name: "Slack token",
    regexp: /(?<![A-Za-z0-9-])xox[abposr]-[0-9]{8,}-[0-9A-Za-z-]{10,}(?![A-Za-z0-9-])/g,
  },
  {
    rule: "google-api-key",
    name: "Google API key",
    regexp: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g,
  },
];

const AWS_KEY_ID = /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z2-7]{16}(?![A-Z0-9])/;
/** An AWS secret access key: 40 base64 characters, named as such or standing alone as a value. */
const AWS_SECRET_NAMED = /aws_?secret_?(?:access_?)?key\W{0,5}([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/i;
const AWS_SECRET_BARE = /(?<![A-Za-z0-9/+=])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/;
/** How many lines around an access key id a secret key must be for the pair to count. */
const AWS_WINDOW = 5;

const PEM_BEGIN = /-----BEGIN ((?:RSA |EC |DSA |OPENSSH |PGP )?PRIVATE KEY(?: BLOCK)?)-----/;
const GCP_PRIVATE_KEY =
  /"private_key"\s*:\s*"-----BEGIN [A-Z ]*PRIVATE KEY-----(?:\\n|\s)+[A-Za-z0-9+/=]{16,}/;

function looksRandom(token: string): boolean {
  if (/EXAMPLE|example|XXXX|xxxx/.test(token)) return false;
  return new Set(token).size >= 8 && !isPlaceholder(token);
}

/** A secret-looking 40 character string must mix cases and digits: hex hashes and words do not. */
function looksLikeAwsSecret(value: string): boolean {
  return /[a-z]/.test(value) && /[A-Z]/.test(value) && /[0-9]/.test(value) && looksRandom(value);
}

export function scanTokens(file: string, lines: readonly string[]): SecretFinding[] {
  const findings: SecretFinding[] = [];
  lines.forEach((text, index) => {
    const line = index + 1;
    for (const pattern of TOKEN_PATTERNS) {
      pattern.regexp.lastIndex = 0;
      for (const match of text.matchAll(pattern.regexp)) {
        if (!looksRandom(match[0])) continue;
        findings.push({ file, line, rule: pattern.rule, message: `${pattern.name} in plaintext.` });
        break;
      }
    }
    // A service-account key file holds its PEM key on the private_key line: one finding, named as such.
    const pem = PEM_BEGIN.exec(text);
    if (GCP_PRIVATE_KEY.test(text)) {
      findings.push({
        file,
        line,
        rule: "gcp-service-account-key",
        message: "Service-account key JSON with its private_key in plaintext.",
      });
    } else if (pem !== null && pemHasBody(text, pem.index + pem[0].length, lines[index + 1])) {
      // A legacy "Proc-Type: 4,ENCRYPTED" key is still flagged: its passphrase is the only barrier
      // and it can be guessed offline forever once the key is in Git history.
      findings.push({
        file,
        line,
        rule: "pem-private-key",
        message: `PEM private key (${pem[1] ?? "PRIVATE KEY"}) committed to the repository.`,
      });
    }
  });
  findings.push(...scanAws(file, lines));
  return findings;
}

/** A header alone (documentation, a grep pattern) is not a key: base64 must follow. */
function pemHasBody(text: string, after: number, next: string | undefined): boolean {
  const rest = text.slice(after).replace(/^(?:\\n|\s)+/, "");
  if (/^(?:[A-Za-z0-9+/=]{16,}|Proc-Type:|Version:)/.test(rest)) return true;
  return (
    next !== undefined && /^\s*(?:[A-Za-z0-9+/=]{16,}|Proc-Type:|Version:|Comment:)/.test(next) && rest === ""
  );
}

function scanAws(file: string, lines: readonly string[]): SecretFinding[] {
  const findings: SecretFinding[] = [];
  const reported = new Set<number>();
  const report = (i: number, message: string) => {
    if (reported.has(i)) return;
    reported.add(i);
    findings.push({ file, line: i + 1, rule: "aws-access-key", message });
  };
  // A secret access key named as such is one whether or not its key id is in the same file.
  lines.forEach((text, index) => {
    const named = AWS_SECRET_NAMED.exec(text);
    if (named?.[1] !== undefined && looksLikeAwsSecret(named[1])) {
      report(index, "AWS secret access key in plaintext.");
    }
  });
  lines.forEach((text, index) => {
    const id = AWS_KEY_ID.exec(text);
    if (id === null || /EXAMPLE/.test(id[0])) return;
    const from = Math.max(0, index - AWS_WINDOW);
    const to = Math.min(lines.length - 1, index + AWS_WINDOW);
    for (let i = from; i <= to; i++) {
      if (i === index) continue;
      const bare = AWS_SECRET_BARE.exec(lines[i] ?? "");
      if (bare?.[1] === undefined || !looksLikeAwsSecret(bare[1])) continue;
      report(i, `AWS secret access key in plaintext, beside an access key id on line ${index + 1}.`);
      return;
    }
  });
  return findings;
}
