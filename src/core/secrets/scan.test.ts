import { describe, expect, it } from "vitest";
import { matchesPattern } from "../reviews/pattern.js";
import { isPlaceholder } from "./placeholder.js";
import { scanFile, scanFiles, MAX_SCANNED_BYTES } from "./scan.js";
import type { ScannedFile } from "./types.js";
import { splitDocuments } from "./yaml.js";

// Every credential below is assembled at run time from a prefix and a random-looking body, so the
// repository never holds a string a secret scanner (ours or GitHub's push protection) would match.
const BODY36 = "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8";
const GITHUB_PAT = "ghp" + "_" + BODY36;
const GITHUB_FINE =
  "github" +
  "_pat_" +
  "11ABCDEFG0123456789abc" +
  "_" +
  "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe9Dc8Ba7Zy6Xw5Vu4Ts3Rq2Po1Nm";
const SLACK = "xox" + "b-" + "123456789012-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx";
const GOOGLE = "AI" + "za" + "SyB7c8D9e0F1g2H3i4J5k6L7m8N9o0P1q2R";
const AWS_ID = "AK" + "IA" + "Q7RZ3XK2M5B4N6P2";
const AWS_SECRET = "wJ7rXuTnFEMI" + "K7MDENGbPxRfiCY9q8Zx2Lk4Qp3W";
const PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7";
const PASSWORD = "Tr0ub4dor-and-3-horses";
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

const rulesOf = (path: string, text: string) => scanFile(path, text).map((f) => [f.line, f.rule]);

function scan(files: ScannedFile[], allow: string[] = []) {
  return scanFiles({ files, allow, matchesPattern });
}

describe("Kubernetes Secrets", () => {
  it("flags stringData and base64 data values at the value's line", () => {
    const text = [
      "apiVersion: v1",
      "kind: Secret",
      "metadata:",
      "  name: db",
      "stringData:",
      `  password: ${PASSWORD}`,
      "data:",
      `  token: ${b64(PASSWORD)}`,
      "",
    ].join("\n");
    expect(rulesOf("apps/db/secret.yaml", text)).toEqual([
      [6, "kubernetes-secret"],
      [8, "kubernetes-secret"],
    ]);
    const messages = scanFile("apps/db/secret.yaml", text).map((f) => f.message);
    expect(messages[1]).toContain("base64 is an encoding");
  });

  it("does not flag placeholders, templates or base64 of a placeholder", () => {
    const text = [
      "apiVersion: v1",
      "kind: Secret",
      "metadata: {name: db}",
      "stringData:",
      '  a: ""',
      "  b: changeme",
      "  c: ${DB_PASSWORD}",
      '  d: "{{ .Values.password }}"',
      "  e: <your-token>",
      "  f: xxxxxxxx",
      "data:",
      `  g: ${b64("changeme")}`,
      "  h: null",
      "",
    ].join("\n");
    expect(scanFile("s.yaml", text)).toEqual([]);
  });

  it("flags a Secret inside a kind: List", () => {
    const text = [
      "apiVersion: v1",
      "kind: List",
      "items:",
      "  - apiVersion: v1",
      "    kind: Secret",
      "    metadata: {name: x}",
      "    stringData:",
      `      key: ${PASSWORD}`,
    ].join("\n");
    expect(rulesOf("list.yaml", text)).toEqual([[8, "kubernetes-secret"]]);
  });

  it("scans JSON manifests too", () => {
    const text = JSON.stringify(
      { apiVersion: "v1", kind: "Secret", metadata: { name: "x" }, stringData: { key: PASSWORD } },
      null,
      2,
    );
    expect(rulesOf("secret.json", text)).toEqual([[8, "kubernetes-secret"]]);
  });

  it("passes a SealedSecret", () => {
    const text = [
      "apiVersion: bitnami.com/v1alpha1",
      "kind: SealedSecret",
      "metadata: {name: db}",
      "spec:",
      "  encryptedData:",
      "    password: AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq" + "Ag1J2AnbO8r5hW3CL1ZMT7lZUxm1Ek0dA4O",
    ].join("\n");
    expect(scanFile("sealed.yaml", text)).toEqual([]);
  });

  describe("SOPS", () => {
    const enc = (data: string) => `ENC[AES256_GCM,data:${data},iv:q8R2mZ0pQ1s=,tag:Zk3Yl9yX0bXw==,type:str]`;
    const sopsBlock = (mac: string) => [
      "sops:",
      "  kms: []",
      `  mac: ${mac}`,
      "  lastmodified: '2026-01-01T00:00:00Z'",
      "  version: 3.9.0",
    ];
    const secret = (value: string, mac: string | null) =>
      [
        "apiVersion: v1",
        "kind: Secret",
        "metadata: {name: db}",
        "stringData:",
        `  password: ${value}`,
        ...(mac === null ? [] : sopsBlock(mac)),
      ].join("\n");

    it("passes values that are really encrypted under SOPS metadata with a MAC", () => {
      expect(scanFile("s.yaml", secret(enc("c2VjcmV0Cg=="), enc("bWFj")))).toEqual([]);
    });

    it("flags a plaintext value in a file that has SOPS metadata", () => {
      const found = scanFile("s.yaml", secret(PASSWORD, enc("bWFj")));
      expect(found.map((f) => [f.line, f.rule])).toEqual([[5, "kubernetes-secret"]]);
      expect(found[0]?.message).toContain("SOPS metadata");
    });

    it("flags ENC[...] values without SOPS metadata, or with a MAC that is not encrypted", () => {
      expect(rulesOf("s.yaml", secret(enc("c2VjcmV0Cg=="), null))).toEqual([[5, "kubernetes-secret"]]);
      expect(rulesOf("s.yaml", secret(enc("c2VjcmV0Cg=="), "plain-mac"))).toEqual([[5, "kubernetes-secret"]]);
    });
  });

  it("fails closed on a Secret that cannot be parsed (syntax error, duplicate key, alias)", () => {
    const broken = ["apiVersion: v1", "kind: Secret", "stringData:", "  password: [unclosed"].join("\n");
    expect(rulesOf("s.yaml", broken).map(([, r]) => r)).toEqual(["kubernetes-secret-unreadable"]);
    const duplicate = ["apiVersion: v1", "kind: Secret", "stringData:", "  a: x", "  a: y"].join("\n");
    expect(rulesOf("s.yaml", duplicate).map(([, r]) => r)).toEqual(["kubernetes-secret-unreadable"]);
    const alias = [
      "apiVersion: v1",
      "kind: Secret # the db",
      "x: &p " + PASSWORD,
      "stringData:",
      "  password: *p",
    ].join("\n");
    expect(rulesOf("s.yaml", alias).map(([, r]) => r)).toEqual(["kubernetes-secret-unreadable"]);
    const flow = `{apiVersion: v1, kind: Secret, stringData: {password: ${PASSWORD}`;
    expect(rulesOf("s.yaml", flow).map(([, r]) => r)).toEqual(["kubernetes-secret-unreadable"]);
  });

  it("an unparseable document that is not a Secret is not flagged by the YAML side", () => {
    expect(scanFile("c.yaml", "kind: ConfigMap\ndata: [unclosed")).toEqual([]);
  });
});

describe("PEM private keys", () => {
  it("flags a key in a block scalar, a file and an escaped JSON string", () => {
    const yamlKey = [
      "stringData:",
      "  tls.key: |",
      "    -----BEGIN PRIVATE KEY-----",
      `    ${PEM_BODY}`,
    ].join("\n");
    expect(rulesOf("k.txt", yamlKey)).toEqual([[3, "pem-private-key"]]);
    const file = ["-----BEGIN RSA PRIVATE KEY-----", PEM_BODY, "-----END RSA PRIVATE KEY-----"].join("\n");
    expect(rulesOf("id_rsa", file)).toEqual([[1, "pem-private-key"]]);
    const openssh = ["-----BEGIN OPENSSH PRIVATE KEY-----", PEM_BODY].join("\n");
    expect(rulesOf("id_ed25519", openssh)).toEqual([[1, "pem-private-key"]]);
    const escaped = `{"key": "-----BEGIN EC PRIVATE KEY-----\\n${PEM_BODY}\\n-----END EC PRIVATE KEY-----"}`;
    expect(rulesOf("k.json", escaped)).toEqual([[1, "pem-private-key"]]);
  });

  it("does not flag a header alone, a public key or a certificate", () => {
    expect(scanFile("docs.md", "Look for `-----BEGIN PRIVATE KEY-----` lines.\n\nThen ...")).toEqual([]);
    expect(scanFile("pub.pem", ["-----BEGIN PUBLIC KEY-----", PEM_BODY].join("\n"))).toEqual([]);
    expect(scanFile("ca.pem", ["-----BEGIN CERTIFICATE-----", PEM_BODY].join("\n"))).toEqual([]);
  });
});

describe("token formats", () => {
  it.each([
    ["github-token", GITHUB_PAT],
    ["github-token", GITHUB_FINE],
    ["slack-token", SLACK],
    ["google-api-key", GOOGLE],
  ])("flags a %s", (rule, token) => {
    expect(rulesOf("config.env", `first line\nTOKEN=${token}\n`)).toEqual([[2, rule]]);
  });

  it("does not flag vendor examples, repeated characters or near misses", () => {
    const text = [
      "ghp" + "_" + "x".repeat(36),
      "ghp" + "_" + BODY36.slice(1), // 35 characters
      "ghp" + "_" + BODY36 + "Z", // 37 characters
      "AI" + "za" + "EXAMPLEexampleEXAMPLEexampleEXAMPLE1",
      "xox" + "b-123",
    ].join("\n");
    expect(scanFile("x.txt", text)).toEqual([]);
  });

  it("flags an AWS secret key beside its key id, or named as such; not a key id alone", () => {
    expect(rulesOf("creds", `[default]\naws_access_key_id = ${AWS_ID}\nvalue = ${AWS_SECRET}\n`)).toEqual([
      [3, "aws-access-key"],
    ]);
    expect(rulesOf("creds", `aws_secret_access_key: "${AWS_SECRET}"\n`)).toEqual([[1, "aws-access-key"]]);
    expect(scanFile("creds", `aws_access_key_id = ${AWS_ID}\n`)).toEqual([]);
    // AWS's documented example pair is a placeholder.
    const example = "AK" + "IAIOSFODNN7EXAMPLE";
    expect(scanFile("creds", `id = ${example}\nkey = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n`)).toEqual(
      [],
    );
    // A 40 character hex hash near a key id is not a secret key.
    expect(scanFile("creds", `id = ${AWS_ID}\nsha = ${"0123456789abcdef".repeat(2)}01234567\n`)).toEqual([]);
  });

  it("names a GCP service-account key file as such, once", () => {
    const key = JSON.stringify({
      type: "service_account",
      project_id: "acme",
      private_key_id: "0123456789abcdef",
      private_key: `-----BEGIN PRIVATE KEY-----\n${PEM_BODY}\n-----END PRIVATE KEY-----\n`,
      client_email: "ci@acme.iam.gserviceaccount.com",
    });
    expect(rulesOf("sa.json", key)).toEqual([[1, "gcp-service-account-key"]]);
  });
});

describe("Kustomize secretGenerator", () => {
  const kustomization = [
    "apiVersion: kustomize.config.k8s.io/v1beta1",
    "kind: Kustomization",
    "secretGenerator:",
    "  - name: db",
    "    literals:",
    `      - password=${PASSWORD}`,
    "      - username=app",
    "      - empty=",
    "    envs: [db.env]",
    "  - name: tls",
    "    files: [tls.key=../certs/tls.key]",
  ].join("\n");

  it("flags plaintext literals (not placeholders) at their line", () => {
    expect(rulesOf("apps/db/kustomization.yaml", kustomization)).toEqual([
      [6, "kustomize-secret-literal"],
      [7, "kustomize-secret-literal"],
    ]);
  });

  it("flags the env files and source files it reads when they are in the change", () => {
    const result = scan([
      { path: "apps/db/kustomization.yaml", text: kustomization },
      { path: "apps/db/db.env", text: `# comment\nDB_USER=app\nDB_PASSWORD=${PASSWORD}\nEMPTY=\n` },
      { path: "apps/certs/tls.key", text: `\n${PASSWORD}\n` },
      { path: "apps/db/other.env", text: `DB_PASSWORD=${PASSWORD}\n` },
    ]);
    expect(result.findings.map((f) => [f.file, f.line, f.rule])).toEqual([
      ["apps/certs/tls.key", 2, "kustomize-secret-file"],
      ["apps/db/db.env", 2, "kustomize-secret-env"],
      ["apps/db/db.env", 3, "kustomize-secret-env"],
      ["apps/db/kustomization.yaml", 6, "kustomize-secret-literal"],
      ["apps/db/kustomization.yaml", 7, "kustomize-secret-literal"],
    ]);
  });
});

describe("Helm values", () => {
  it("flags credential keys (snake, dotted, camelCase, in lists) but not references to Secrets", () => {
    const text = [
      "auth:",
      `  postgresPassword: ${PASSWORD}`,
      "  existingSecret: db-credentials-secret",
      "  secretKeys:",
      "    adminPasswordKey: postgres-password",
      `  password: "{{ .Values.global.password }}"`,
      "users:",
      "  - name: alice",
      `    password: ${PASSWORD}`,
      "oauth:",
      `  client_secret: ${PASSWORD}`,
      "  clientSecretName: oauth-secret",
      "  tokenFile: /var/run/token",
      "  token: short",
      "serviceAccount:",
      "  automountToken: true",
    ].join("\n");
    expect(rulesOf("charts/db/values.yaml", text)).toEqual([
      [2, "helm-value"],
      [9, "helm-value"],
      [11, "helm-value"],
    ]);
    expect(rulesOf("env/values-prod.yaml", text)).toHaveLength(3);
    // The same keys in a file that is not a values file are not Helm values.
    expect(scanFile("app/config.yaml", text)).toEqual([]);
  });

  it("checks values files that use anchors and aliases, and fails closed on an alias bomb", () => {
    const aliased = [
      "common: &db",
      "  host: db.internal",
      `  port: 5432`,
      `shared: &pw ${PASSWORD}`,
      "primary:",
      "  <<: *db",
      "  password: *pw",
    ].join("\n");
    expect(rulesOf("charts/app/values.yaml", aliased)).toEqual([[7, "helm-value"]]);
    expect(scanFile("charts/app/values.yaml", "a: &x {host: db}\nb: *x\n")).toEqual([]);
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 0; i < 8; i++) {
      const name = String.fromCharCode(98 + i);
      const prev = String.fromCharCode(97 + i);
      bomb.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(", ")}]`);
    }
    expect(rulesOf("charts/app/values.yaml", bomb.join("\n"))).toEqual([[1, "helm-value"]]);
  });

  it("flags inline values of a Flux HelmRelease", () => {
    const text = [
      "apiVersion: helm.toolkit.fluxcd.io/v2",
      "kind: HelmRelease",
      "metadata: {name: db}",
      "spec:",
      "  values:",
      "    auth:",
      `      rootPassword: ${PASSWORD}`,
    ].join("\n");
    expect(rulesOf("apps/db/release.yaml", text)).toEqual([[7, "helm-value"]]);
  });
});

describe("multi-document YAML line numbers", () => {
  it("reports 1-based file lines across documents, markers with content and CRLF", () => {
    const text = [
      "# leading comment",
      "---",
      "apiVersion: v1",
      "kind: ConfigMap",
      "data: {a: b}",
      "--- # a Secret follows",
      "apiVersion: v1",
      "kind: Secret",
      "stringData:",
      `  one: ${PASSWORD}`,
      "...",
      "---",
      "",
      "apiVersion: v1",
      "kind: Secret",
      "data:",
      `  two: ${b64(PASSWORD)}`,
    ];
    expect(rulesOf("m.yaml", text.join("\n"))).toEqual([
      [10, "kubernetes-secret"],
      [17, "kubernetes-secret"],
    ]);
    expect(rulesOf("m.yaml", text.join("\r\n"))).toEqual([
      [10, "kubernetes-secret"],
      [17, "kubernetes-secret"],
    ]);
  });

  it("splitDocuments keeps each document's first line", () => {
    expect(splitDocuments("a: 1\n---\nb: 2\n--- c\n").map((d) => d.lineOffset)).toEqual([0, 1, 3]);
  });
});

describe("scanFiles", () => {
  const secret = ["apiVersion: v1", "kind: Secret", "stringData:", `  p: ${PASSWORD}`].join("\n");

  it("skips allow-listed files and reports them", () => {
    const result = scan(
      [
        { path: "test/fixtures/secret.yaml", text: secret },
        { path: "apps/secret.yaml", text: secret },
      ],
      ["test/fixtures/"],
    );
    expect(result.findings.map((f) => f.file)).toEqual(["apps/secret.yaml"]);
    expect(result.allowedFiles).toEqual(["test/fixtures/secret.yaml"]);
    expect(result.scannedFiles).toBe(1);
  });

  it("reports only lines the pull request changed", () => {
    expect(scan([{ path: "s.yaml", text: secret, changedLines: new Set([1, 2]) }]).findings).toEqual([]);
    expect(scan([{ path: "s.yaml", text: secret, changedLines: new Set([4]) }]).findings).toHaveLength(1);
  });

  it("fails closed on a file too large to scan", () => {
    const big = "a: b\n".repeat(Math.ceil(MAX_SCANNED_BYTES / 5) + 1);
    const result = scan([{ path: "big.yaml", text: big }]);
    expect(result.factsError).toContain("big.yaml");
    expect(scan([{ path: "ok.yaml", text: "a: b\n" }]).factsError).toBeUndefined();
  });

  it("reports one finding per line and rule", () => {
    const text = ["apiVersion: v1", "kind: Secret", "stringData:", `  a: ${GITHUB_PAT}`].join("\n");
    expect(scan([{ path: "s.yaml", text }]).findings.map((f) => f.rule)).toEqual([
      "github-token",
      "kubernetes-secret",
    ]);
  });
});

describe("isPlaceholder", () => {
  it.each([
    "",
    "  ",
    "changeme",
    "CHANGEME",
    "${X}",
    "$X",
    "$(X)",
    "{{ .Values.x }}",
    "<token>",
    "%X%",
    "((x))",
    "****",
  ])("%j is a placeholder", (value) => expect(isPlaceholder(value)).toBe(true));
  it.each([PASSWORD, "postgres" + "Secret99!", `${PASSWORD}{{ "" }}`, `{{ "" }}${PASSWORD}`])(
    "%j is not a placeholder",
    (value) => expect(isPlaceholder(value)).toBe(false),
  );
  it("a template with connection-string glue around it is a placeholder", () => {
    expect(isPlaceholder("postgres://app:{{ .Values.pw }}@db:5432/app")).toBe(true);
  });
});
