import { ProbotOctokit } from "probot";
import type { Command } from "../command.js";
import { parseCommandArgs, requireOption } from "../args.js";
import { EXIT_FAILURE, EXIT_OK, IoError, UsageError } from "../errors.js";
import { printJson, type CliIo } from "../io.js";
import type { GitHub } from "../../github/octokit.js";
import type { LoadPolicy, RepositoryAudit } from "../../github/protection/audit.js";
import { ProtectionFactsError } from "../../github/protection/errors.js";
import { auditOrganization, type OrgAudit } from "../../github/protection/org-audit.js";

const USAGE =
  "audit --org ORG [--repo NAME] [--fix] [--app-id ID] [--app-slug SLUG] [--concurrency N] [--max-requests N] [--json]";

/**
 * `pullgate audit`: each governed branch's effective protection (classic + rulesets) against the
 * policy, for operators and CI. GITHUB_TOKEN authenticates (a token that can read branch
 * protection and rulesets: repository "Administration: read"; `--fix` needs write), GITHUB_API_URL
 * points at GitHub Enterprise or the sandbox. pullgate's app id (`--app-id` or PULLGATE_APP_ID) is
 * what the required "pullgate" check must be pinned to; without it the id is looked up from the
 * app slug (`--app-slug`, PULLGATE_APP_SLUG, default "pullgate") with `GET /apps/{slug}`.
 */
export const command: Command = {
  usage: USAGE,
  summary:
    "Audit (and with --fix, enforce) branch protection of an org's governed branches against the policy",
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, {
      org: { type: "string" },
      repo: { type: "string" },
      fix: { type: "boolean", default: false },
      "app-id": { type: "string" },
      "app-slug": { type: "string" },
      concurrency: { type: "string" },
      "max-requests": { type: "string" },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const org = requireOption(values.org, "org");
    const token = io.env.GITHUB_TOKEN;
    if (!token)
      throw new UsageError("GITHUB_TOKEN is not set: audit needs a token that can read branch protection");
    const baseUrl = (io.env.GITHUB_API_URL || "https://api.github.com").replace(/\/+$/, "");
    const concurrency = positiveInt(values.concurrency, "concurrency");
    const budget = positiveInt(values["max-requests"], "max-requests");
    const appSlug = values["app-slug"] ?? io.env.PULLGATE_APP_SLUG ?? "pullgate";
    const appIdText = values["app-id"] ?? io.env.PULLGATE_APP_ID;
    let appId = appIdText !== undefined && appIdText !== "" ? positiveInt(appIdText, "app-id") : undefined;

    const gh = createCliOctokit(token, baseUrl, io);
    if (appId === undefined) appId = await lookUpAppId(gh, appSlug);
    const loadPolicy = await defaultLoadPolicy();

    let audit: OrgAudit;
    try {
      audit = await auditOrganization(gh, org, {
        appId,
        appSlug,
        fix: values.fix ? "all" : "none",
        loadPolicy,
        ...(values.repo !== undefined ? { repo: values.repo } : {}),
        ...(concurrency !== undefined ? { concurrency } : {}),
        ...(budget !== undefined ? { requestBudget: budget } : {}),
      });
    } catch (error) {
      if (error instanceof ProtectionFactsError) throw new IoError(error.message);
      throw error;
    }

    if (values.json) printJson(io, toJson(audit));
    else io.stdout(renderText(audit, values.fix));
    const failing = audit.repositories.filter((r) => r.status === "drift" || r.status === "error");
    if (!values.json && failing.length > 0) {
      io.stderr(
        `${failing.length} of ${audit.repositories.length} repositories ${values.fix ? "still " : ""}short of the policy or not checked`,
      );
    }
    return failing.length > 0 ? EXIT_FAILURE : EXIT_OK;
  },
};

function positiveInt(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]{0,9}$/.test(text))
    throw new UsageError(`--${name} must be a positive integer, got "${text}"`);
  return Number(text);
}

/** An Octokit with retries and rate-limit throttling (it waits out GitHub's limits rather than failing). */
export function createCliOctokit(token: string, baseUrl: string, io: CliIo): GitHub {
  const say = (message: string): void => io.stderr(`pullgate audit: ${message}`);
  const noop = (): void => {};
  return new ProbotOctokit({
    auth: { token },
    baseUrl,
    log: { debug: noop, info: noop, warn: say, error: say },
  });
}

async function lookUpAppId(gh: GitHub, slug: string): Promise<number> {
  try {
    const { data } = await gh.request("GET /apps/{app_slug}", { app_slug: slug });
    if (data && typeof data.id === "number") return data.id;
  } catch {
    // Reported below: the id is needed to tell a pinned pullgate check from a forgeable one.
  }
  throw new UsageError(
    `cannot find the GitHub App "${slug}"; pass its id with --app-id or PULLGATE_APP_ID (the required check must be pinned to it)`,
  );
}

/**
 * The policy loader of the app (repo policy at the default branch head over the org's). Loaded
 * lazily so `pullgate --help` does not pay for the policy parser.
 */
async function defaultLoadPolicy(): Promise<LoadPolicy> {
  const { loadEffectivePolicy } = await import("../../github/policy-source.js");
  return loadEffectivePolicy;
}

interface DriftJson {
  setting: string;
  expected: string;
  actual: string;
  fix?: string;
}

/** The `--json` document: stable field names, the drift rows and what fixing did. */
export function toJson(audit: OrgAudit): unknown {
  return {
    org: audit.org,
    repositories: audit.repositories.map((r) => ({
      repo: r.repo,
      status: r.status,
      ...(r.error !== undefined ? { error: r.error } : {}),
      policySources: r.policySources,
      branches: r.branches.map((b) => ({
        branch: b.branch,
        environment: b.environment,
        mode: b.mode,
        status: b.status,
        summary: b.result.summary,
        drift: b.drift.map((d): DriftJson => ({
          setting: d.setting,
          expected: d.expected,
          actual: d.actual,
          fix: d.fix,
        })),
        ...(b.status === "error" ? { error: b.result.summary } : {}),
        ...(b.fix ? { fix: b.fix } : {}),
      })),
      approvedRefs: {
        status: worst(r.approvedRefs.map((a) => a.status)),
        refs: r.approvedRefs.map((a) => ({
          ref: a.ref,
          environment: a.environment,
          status: a.status,
          summary: a.result.summary,
          drift: a.drift.map((d): DriftJson => ({
            setting: d.setting,
            expected: d.expected,
            actual: d.actual,
            fix: d.fix,
          })),
          ...(a.fix ? { fix: a.fix } : {}),
        })),
      },
      notes: r.notes,
    })),
    archived: audit.archived,
    requests: audit.requests,
  };
}

function worst(statuses: string[]): string {
  if (statuses.includes("error")) return "error";
  if (statuses.includes("drift")) return "drift";
  return "ok";
}

/** One block per repository, one line per branch / record ref, drift rows indented under it. */
export function renderText(audit: OrgAudit, fixing: boolean): string {
  const lines: string[] = [];
  for (const r of audit.repositories) lines.push(...repoLines(r, fixing));
  const counts = new Map<string, number>();
  for (const r of audit.repositories) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const summary = [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${n} ${s}`)
    .join(", ");
  lines.push(
    "",
    `${audit.org}: ${audit.repositories.length} repositories (${summary || "none"})${audit.archived.length > 0 ? `, ${audit.archived.length} archived skipped` : ""}; ${audit.requests} API requests`,
  );
  return lines.join("\n");
}

function repoLines(r: RepositoryAudit, fixing: boolean): string[] {
  const lines = [`${r.repo}: ${r.status}${r.error !== undefined ? ` (${r.error})` : ""}`];
  const rows: { name: string; status: string; drift: DriftJson[]; extra?: string }[] = [
    ...r.branches.map((b) => ({
      name: `${b.branch} -> ${b.environment} [${b.mode}]`,
      status: b.status,
      drift: b.drift,
      ...(b.status === "error" ? { extra: b.result.summary } : {}),
      ...(fixing && b.fix ? { extra: fixNote(b.fix) } : {}),
    })),
    ...r.approvedRefs.map((a) => ({
      name: `${a.ref} (record ref)`,
      status: a.status,
      drift: a.drift,
      ...(a.status === "error" ? { extra: a.result.summary } : {}),
      ...(fixing && a.fix ? { extra: fixNote(a.fix) } : {}),
    })),
  ];
  const width = Math.max(0, ...rows.map((row) => row.name.length));
  for (const row of rows) {
    lines.push(`  ${row.name.padEnd(width)}  ${row.status}${row.extra ? `  ${row.extra}` : ""}`);
    for (const d of row.drift) lines.push(`      ${d.setting}: expected ${d.expected}; actual ${d.actual}`);
  }
  for (const note of r.notes) lines.push(`  note: ${note}`);
  return lines;
}

function fixNote(fix: NonNullable<RepositoryAudit["branches"][number]["fix"]>): string {
  const before = `${fix.before.length} drift before fix`;
  if (fix.error !== undefined) return `(${before}; fix failed: ${fix.error})`;
  return fix.fixed ? `(fixed: ${before})` : `(${before}; some remains)`;
}
