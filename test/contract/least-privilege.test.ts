/**
 * Least privilege, checked (docs/github-api.md): the GitHub operations pullgate calls are derived
 * twice, from the source (every `rest.*` method and `request`/`paginate` route outside the sandbox
 * and the demo) and from the requests the app really makes in end-to-end flows through the real
 * Probot server and the sandbox (the demo's ten steps, a re-run, an access change, a policy push
 * that the app audits, and `pullgate audit --fix` with the installation's token). Both must be
 * exactly the operations docs/github-api.md lists, each must be one of GitHub's own operations, the
 * permissions app.yml asks for must be exactly what the `required` rows and the subscribed events
 * need, and every captured listing request must page the way the page says.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import yaml from "js-yaml";
import { ProbotOctokit } from "probot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import type { CliIo } from "../../src/cli/io.js";
import { Observations } from "../../src/demo/observations.js";
import { gitopsPolicy } from "../../src/demo/seed.js";
import { STEPS, type DemoContext } from "../../src/demo/steps.js";
import { CHECK_OUTPUT_LIMIT } from "../../src/github/render-check.js";
import { ORG, startAppHarness, type AppHarness } from "../helpers/app-harness.js";
import { operationOf, recordAppRequests, type AppRequest } from "../helpers/github-operations.js";

const ROOT = join(import.meta.dirname, "..", "..");

interface DocRow {
  op: string;
  permission: string;
  mode: "required" | "enforce" | "optional" | "app" | "public";
  paging: "100" | "1" | "one page" | "—";
}

/** The Operations and Events tables of docs/github-api.md. */
async function readDoc(): Promise<{ rows: DocRow[]; events: Map<string, string> }> {
  const text = await readFile(join(ROOT, "docs", "github-api.md"), "utf8");
  const cells = (line: string) =>
    line
      .split("|")
      .slice(1, -1)
      .map((c) => c.trim().replace(/^`|`$/g, ""));
  const rows: DocRow[] = [];
  const events = new Map<string, string>();
  for (const line of text.split("\n")) {
    const c = cells(line);
    if (c.length === 6 && /^(GET|POST|PUT|PATCH|DELETE)$/.test(c[0] ?? "")) {
      rows.push({
        op: `${c[0]} ${c[1]}`,
        permission: c[3] ?? "",
        mode: c[4] as DocRow["mode"],
        paging: c[5] as DocRow["paging"],
      });
    } else if (c.length === 2 && /^[a-z_]+$/.test(c[0] ?? "") && /: (read|write)$/.test(c[1] ?? "")) {
      events.set(c[0] ?? "", c[1] ?? "");
    }
  }
  return { rows, events };
}

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    if ((await stat(path)).isDirectory()) out.push(...(await sourceFiles(path)));
    else if (name.endsWith(".ts") && !name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

/** Operations named in the app's source: `gh.rest.<scope>.<method>` resolved through Octokit itself. */
async function sourceOperations(): Promise<Map<string, string[]>> {
  const octokit = new ProbotOctokit();
  const rest = octokit.rest as unknown as Record<
    string,
    Record<string, { endpoint: { DEFAULTS: { method: string; url: string } } }>
  >;
  const ops = new Map<string, string[]>();
  const add = (op: string, file: string) => ops.set(op, [...(ops.get(op) ?? []), file]);
  const src = join(ROOT, "src");
  for (const file of await sourceFiles(src)) {
    const where = relative(ROOT, file);
    if (where.startsWith("src/sandbox/") || where.startsWith("src/demo/")) continue;
    const text = await readFile(file, "utf8");
    for (const m of text.matchAll(/\.rest\.(\w+)\.(\w+)\b/g)) {
      const endpoint = rest[m[1] ?? ""]?.[m[2] ?? ""]?.endpoint.DEFAULTS;
      if (endpoint === undefined) throw new Error(`${where}: unknown Octokit method rest.${m[1]}.${m[2]}`);
      add(`${endpoint.method} ${endpoint.url}`, where);
    }
    for (const m of text.matchAll(/\.(?:request|paginate)\(\s*"(GET|POST|PUT|PATCH|DELETE) ([^"]+)"/g))
      add(`${m[1]} ${m[2]}`, where);
  }
  // Probot's own call: every handler's installation token.
  add("POST /app/installations/{installation_id}/access_tokens", "probot");
  return ops;
}

const RANK = { read: 1, write: 2 } as const;

function cliIo(env: Record<string, string>): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (s) => out.push(s), stderr: (s) => err.push(s), env, cwd: process.cwd() };
}

describe("least privilege: the operations pullgate calls, the permissions it needs, app.yml", () => {
  let h: AppHarness;
  let scratch: string;
  const recorder = recordAppRequests();
  const captured: AppRequest[] = recorder.requests;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "pullgate-least-privilege-"));
    h = await startAppHarness({ policy: gitopsPolicy({ lastPushApproval: true }) });
    const keysPath = join(scratch, "app-public.asc");
    await writeFile(keysPath, h.recordPublicKey);
    await mkdir(join(scratch, "agent"), { recursive: true });

    // 1. The demo's ten steps: gating, records, a direct push's alert, an agent's verification.
    const ctx: DemoContext = { world: h.world, keysPath, scratch: join(scratch, "agent"), records: [] };
    for (const step of STEPS) {
      const seen = new Observations();
      await step.run(ctx, seen);
      if (!seen.ok) throw new Error(`demo step ${step.name} failed: ${seen.detail()}`);
    }
    const { olivia, bob } = h.people;
    // 2. A re-run of a check (check_run.rerequested) on the PR that passed.
    if (ctx.prodPull) await h.rerequest(ctx.prodPull.headSha);
    // 3. An access change: bob leaves the SRE team (membership.removed re-gates what he approved).
    await olivia.octokit.request("DELETE /orgs/{org}/teams/{team_slug}/memberships/{username}", {
      org: ORG,
      team_slug: "sre",
      username: bob.login,
    });
    await h.settle();
    // 4. A repository whose policy asks for protection: the push makes the app audit it (drift issue),
    //    then an operator runs `pullgate audit --fix` with the installation's token.
    await h.t.admin.request("POST /orgs/{org}/repos", { org: ORG, name: "deploy", auto_init: true });
    const dir = await h.t.clone(ORG, "deploy", olivia.token);
    await h.t.commit(
      dir,
      {
        ".github/pullgate.yml": [
          "version: 1",
          'admins: ["@acme/platform"]',
          "branches:",
          "  - branch: main",
          "    environment: staging",
          "    protection:",
          "      mode: audit",
          "",
        ].join("\n"),
      },
      "policy",
    );
    expect((await h.t.push(dir, "HEAD:refs/heads/main")).code).toBe(0);
    await h.settle();
    const token = await h.t.installationToken(ORG);
    const io = cliIo({
      GITHUB_TOKEN: token,
      GITHUB_API_URL: h.t.sandbox.apiUrl,
      PULLGATE_APP_SLUG: h.t.sandbox.app.slug,
    });
    const code = await main(["audit", "--org", ORG, "--repo", "deploy", "--fix", "--json"], io);
    if (code !== 0) throw new Error(`audit --fix exited ${code}: ${io.err.join("\n")}`);
  }, 600_000);

  afterAll(async () => {
    recorder.stop();
    await h?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("the flows ran through the app (the capture works)", () => {
    const ops = new Set(captured.map((r) => operationOf(r.method, r.pathname)?.path));
    expect(captured.length).toBeGreaterThan(100);
    expect(ops).toContain("/repos/{owner}/{repo}/check-runs/{check_run_id}");
    expect(ops).toContain("/repos/{owner}/{repo}/branches/{branch}/protection");
    expect(captured.some((r) => r.credential === "app")).toBe(true);
  });

  it("every request the app made is one of GitHub's operations, listed in docs/github-api.md", async () => {
    const { rows } = await readDoc();
    const documented = new Set(rows.map((r) => r.op));
    const unknown = captured.filter((r) => operationOf(r.method, r.pathname) === null);
    expect(unknown.map((r) => `${r.method} ${r.pathname}`)).toEqual([]);
    const observed = new Set(captured.map((r) => `${r.method} ${operationOf(r.method, r.pathname)?.path}`));
    expect([...observed].filter((op) => !documented.has(op)).sort()).toEqual([]);
  });

  it("the source calls exactly the operations docs/github-api.md lists, each one of GitHub's", async () => {
    const { rows } = await readDoc();
    const documented = rows.map((r) => r.op).sort();
    expect(new Set(documented).size, "an operation is listed twice").toBe(documented.length);
    const source = await sourceOperations();
    expect([...source.keys()].filter((op) => !documented.includes(op)).sort()).toEqual([]);
    expect(documented.filter((op) => !source.has(op))).toEqual([]);
    for (const op of documented) {
      const [method = "", path = ""] = op.split(" ");
      expect(operationOf(method, path)?.path, `${op} is not in GitHub's description`).toBe(path);
    }
    // The one operation api.github.com does not have is said to be so.
    const ghecOnly = documented.filter((op) => {
      const [method = "", path = ""] = op.split(" ");
      return operationOf(method, path)?.source === "ghec";
    });
    expect(ghecOnly).toEqual(["GET /orgs/{org}/custom-repository-roles"]);
  });

  it("app.yml asks for exactly the permissions the required operations and subscribed events need", async () => {
    const { rows, events } = await readDoc();
    const manifest = yaml.load(await readFile(join(ROOT, "app.yml"), "utf8")) as {
      default_permissions: Record<string, "read" | "write">;
      default_events: string[];
    };
    const needed = new Map<string, "read" | "write">();
    const need = (grant: string, why: string) => {
      const [name = "", level] = grant.split(": ");
      expect(
        level === "read" || level === "write",
        `${why}: "${grant}" is not "<permission>: read|write"`,
      ).toBe(true);
      const l = level as "read" | "write";
      if (RANK[l] > RANK[needed.get(name) ?? "read"] || !needed.has(name)) needed.set(name, l);
    };
    for (const row of rows) {
      if (row.mode === "required") need(row.permission, row.op);
      else if (row.mode === "app" || row.mode === "public") expect(row.permission, row.op).toBe(row.mode);
    }
    for (const event of manifest.default_events) {
      const grant = events.get(event);
      expect(grant, `docs/github-api.md names no permission for the ${event} event`).toBeDefined();
      need(grant ?? "", event);
    }
    expect(Object.fromEntries([...needed].sort())).toEqual(
      Object.fromEntries(Object.entries(manifest.default_permissions).sort()),
    );
    // Enforcement needs more than app.yml grants, and only administration: write (docs/protection.md).
    const beyond = rows
      .filter((r) => r.mode === "enforce")
      .map((r) => r.permission)
      .filter((p) => {
        const [name = "", level = "read"] = p.split(": ");
        return (
          RANK[level as "read" | "write"] > RANK[manifest.default_permissions[name] ?? "read"] ||
          manifest.default_permissions[name] === undefined
        );
      });
    expect([...new Set(beyond)]).toEqual(["administration: write"]);
  });

  it("every captured listing request pages the way docs/github-api.md says", async () => {
    const { rows } = await readDoc();
    const paging = new Map(rows.map((r) => [r.op, r.paging]));
    const wrong: string[] = [];
    for (const r of captured) {
      const op = `${r.method} ${operationOf(r.method, r.pathname)?.path}`;
      const perPage = r.query.get("per_page");
      const expected = paging.get(op);
      const ok =
        expected === "100"
          ? perPage === "100"
          : expected === "1"
            ? perPage === "1"
            : expected === "one page"
              ? perPage !== null && Number(perPage) <= 100 && (r.query.get("page") ?? "1") === "1"
              : perPage === null;
      if (!ok) wrong.push(`${op}?${r.query.toString()} (documented: ${expected})`);
    }
    expect(wrong).toEqual([]);
  });

  it("every check-run write is within GitHub's limits (bytes) and carries no annotations", () => {
    const writes = captured.filter(
      (r) => (r.method === "POST" || r.method === "PATCH") && /\/check-runs(\/\d+)?$/.test(r.pathname),
    );
    expect(writes.length).toBeGreaterThan(10);
    for (const w of writes) {
      const output = (w.body as { output?: Record<string, unknown> }).output ?? {};
      for (const field of ["title", "summary", "text"])
        if (typeof output[field] === "string")
          expect(Buffer.byteLength(output[field] as string, "utf8")).toBeLessThanOrEqual(CHECK_OUTPUT_LIMIT);
      expect(output.annotations).toBeUndefined();
    }
  });
});
