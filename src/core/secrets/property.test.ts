import fc from "fast-check";
import yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { matchesPattern } from "../reviews/pattern.js";
import { isPlaceholder } from "./placeholder.js";
import { scanFiles } from "./scan.js";
import type { ScannedFile, SecretRuleId } from "./types.js";
import { secretsRule } from "./verdict.js";

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".split("");

/** A random 40 character credential: mixed case and digits, as real keys and passwords are. */
const credential = fc
  .array(fc.constantFrom(...ALNUM), { minLength: 40, maxLength: 40 })
  .map((chars) => chars.join(""))
  .filter(
    (s) =>
      /[a-z]/.test(s) &&
      /[A-Z]/.test(s) &&
      /[0-9]/.test(s) &&
      new Set(s).size >= 12 &&
      !/example|xxxx/i.test(s) &&
      !isPlaceholder(s),
  );

/** Short key names that cannot contain a 12+ character slice of the credential. */
const keyName = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/);

interface Carrier {
  name: string;
  /** The files holding the credential, and the exact strings that must never be echoed. */
  build(secret: string, key: string): { files: ScannedFile[]; secrets: string[]; rule: SecretRuleId };
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const secretYaml = (field: string, key: string, value: string) =>
  ["apiVersion: v1", "kind: Secret", "metadata:", "  name: app", `${field}:`, `  ${key}: "${value}"`].join(
    "\n",
  );

const CARRIERS: Carrier[] = [
  {
    name: "stringData",
    build: (s, k) => ({
      files: [{ path: "apps/secret.yaml", text: secretYaml("stringData", k, s) }],
      secrets: [s],
      rule: "kubernetes-secret",
    }),
  },
  {
    name: "data (base64)",
    build: (s, k) => ({
      files: [{ path: "apps/secret.yaml", text: secretYaml("data", k, b64(s)) }],
      secrets: [s, b64(s)],
      rule: "kubernetes-secret",
    }),
  },
  {
    name: "Helm value",
    build: (s, k) => ({
      files: [{ path: "charts/app/values.yaml", text: `${k}:\n  auth:\n    password: "${s}"\n` }],
      secrets: [s],
      rule: "helm-value",
    }),
  },
  {
    name: "secretGenerator literal and env file",
    build: (s, k) => ({
      files: [
        {
          path: "apps/kustomization.yaml",
          text: `secretGenerator:\n  - name: app\n    literals: ["${k}=${s}"]\n    envs: [app.env]\n`,
        },
        { path: "apps/app.env", text: `${k.toUpperCase()}=${s}\n` },
      ],
      secrets: [s],
      rule: "kustomize-secret-literal",
    }),
  },
  {
    name: "GitHub token",
    build: (s) => {
      const token = "gh" + "p_" + s.slice(0, 36);
      return {
        files: [{ path: "README.md", text: `use ${token} here\n` }],
        secrets: [token, s.slice(0, 36)],
        rule: "github-token",
      };
    },
  },
  {
    name: "AWS secret key",
    build: (s) => ({
      files: [{ path: "creds.ini", text: `aws_secret_access_key = ${s}\n` }],
      secrets: [s],
      rule: "aws-access-key",
    }),
  },
  {
    name: "PEM key",
    build: (s) => ({
      files: [
        { path: "id_rsa", text: `-----BEGIN RSA PRIVATE KEY-----\n${s}\n-----END RSA PRIVATE KEY-----\n` },
      ],
      secrets: [s],
      rule: "pem-private-key",
    }),
  },
];

describe("property: the secret is never echoed", () => {
  it("no finding, annotation, summary, note or fix contains the credential", () => {
    fc.assert(
      fc.property(credential, keyName, fc.constantFrom(...CARRIERS), (secret, key, carrier) => {
        const { files, secrets, rule } = carrier.build(secret, key);
        const scan = scanFiles({ files, allow: [], matchesPattern });
        // Not vacuous: the credential is found, by the rule its carrier is about.
        expect(scan.findings.map((f) => f.rule)).toContain(rule);
        const output = JSON.stringify({ scan, verdict: secretsRule({ enabled: true, ...scan }) });
        for (const s of secrets) expect(output).not.toContain(s);
        // Nor any long slice of it (a truncated echo is still a leak).
        for (let i = 0; i + 12 <= secret.length; i += 4)
          expect(output).not.toContain(secret.slice(i, i + 12));
      }),
      { numRuns: 300 },
    );
  });
});

describe("property: multi-document line numbers", () => {
  /** A document: filler lines (comments, blanks, ConfigMap data) and optionally a Secret value. */
  const documentArb = fc.record({
    leading: fc.array(fc.constantFrom("", "# note", "   "), { maxLength: 3 }),
    filler: fc.integer({ min: 0, max: 4 }),
    secret: fc.boolean(),
    marker: fc.constantFrom("---", "--- # next", "---   "),
  });

  it("each finding is on the 1-based file line of its value, whatever precedes it", () => {
    fc.assert(
      fc.property(
        fc.array(documentArb, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        credential,
        (docs, crlf, secret) => {
          const lines: string[] = [];
          const expected: number[] = [];
          docs.forEach((doc, d) => {
            if (d > 0) lines.push(doc.marker);
            lines.push(...doc.leading);
            lines.push(
              "apiVersion: v1",
              `kind: ${doc.secret ? "Secret" : "ConfigMap"}`,
              `metadata: {name: d${d}}`,
            );
            lines.push(doc.secret ? "stringData:" : "data:");
            for (let i = 0; i < doc.filler; i++) lines.push(`  f${i}: "{{ .Values.x }}"`, `  # c${i}`);
            if (doc.secret) {
              lines.push(`  value: "${secret}"`);
              expected.push(lines.length);
            }
          });
          const text = lines.join(crlf ? "\r\n" : "\n");
          const found = scanFiles({ files: [{ path: "m.yaml", text }], allow: [], matchesPattern }).findings;
          expect(found.map((f) => [f.line, f.rule])).toEqual(
            expected.map((line) => [line, "kubernetes-secret"]),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("property: non-secret YAML is never flagged", () => {
  const CREDENTIAL_WORD = /pass|secret|token|key|auth|cred/i;
  const benignKey = fc.stringMatching(/^[a-z][a-zA-Z0-9_.-]{0,12}$/).filter((k) => !CREDENTIAL_WORD.test(k));
  const scalar = fc.oneof(
    fc.lorem({ maxCount: 6 }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.stringMatching(/^[a-z0-9.-]{1,30}$/),
  );
  const value = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      scalar,
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(benignKey, tie("value"), { maxKeys: 5 }),
    ),
  })).value;
  const placeholder = fc.constantFrom(
    "",
    "changeme",
    "${DB_PASSWORD}",
    "{{ .Values.password }}",
    "<your-token>",
    "REDACTED",
  );

  it("benign manifests, values files and placeholder Secrets produce no finding", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              kind: fc.constantFrom("ConfigMap", "Deployment", "Service"),
              data: fc.dictionary(benignKey, value),
            }),
            fc.dictionary(benignKey, value),
            fc.record({
              apiVersion: fc.constant("v1"),
              kind: fc.constant("Secret"),
              stringData: fc.dictionary(benignKey, placeholder),
              data: fc.dictionary(benignKey, placeholder.map(b64)),
            }),
          ),
          { minLength: 1, maxLength: 4 },
        ),
        fc.constantFrom(
          "apps/deploy.yaml",
          "charts/app/values.yaml",
          "apps/kustomization.yaml",
          "manifest.json",
        ),
        (documents, path) => {
          const text = path.endsWith(".json")
            ? JSON.stringify(documents[0], null, 2)
            : documents.map((d) => yaml.dump(d, { schema: yaml.CORE_SCHEMA })).join("---\n");
          const scan = scanFiles({ files: [{ path, text }], allow: [], matchesPattern });
          expect(scan.findings).toEqual([]);
          expect(secretsRule({ enabled: true, ...scan }).result.status).toBe("pass");
        },
      ),
      { numRuns: 300 },
    );
  });
});
