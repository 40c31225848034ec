import { describe, expect, it } from "vitest";
import type { Logger } from "probot";
import { pullgateMetrics } from "../../metrics.js";
import { buildRawCommit, commitSha } from "../../record/commit.js";
import type { RecordFields } from "../../record/format.js";
import { generateRecordKey, loadSigningKey } from "../../record/keys.js";
import type { GitHub } from "../octokit.js";
import type { RecordSigner } from "../records/publish.js";
import { refreshDue, refreshRecord, type RefreshTarget } from "./refresh.js";

const HOUR = 3_600_000;
const HEAD = "c".repeat(40);
const ISSUED = "2026-12-01T10:00:00Z";

async function signer(): Promise<RecordSigner> {
  const pair = await generateRecordKey({
    name: "pullgate",
    email: "pullgate@example.test",
    date: new Date("2020-01-01T00:00:00Z"),
  });
  return {
    key: await loadSigningKey(pair.privateKey),
    fingerprint: pair.fingerprint,
    identity: { name: "pullgate[bot]", email: "pullgate[bot]@users.noreply.github.com" },
  };
}

function headFields(key: string): RecordFields {
  return {
    repository: "acme/gitops",
    environment: "production",
    branch: "main",
    sequence: 4,
    sourceCommit: "a".repeat(40),
    sourceTree: "b".repeat(40),
    pullRequest: 7,
    approvedBy: ["bob"],
    policyDigest: `sha256:${"d".repeat(64)}`,
    issuedAt: ISSUED,
    key,
  };
}

interface CommitRequest {
  tree: string;
  parents: string[];
  message: string;
  signature: string;
  author: { name: string; email: string; date: string };
  committer: { name: string; email: string; date: string };
}

/**
 * A GitHub that stores commits as GitHub does (the SHA of the bytes sent) and answers the ref
 * update with `update` (undefined: accepted).
 */
function fakeGitHub(options: { update?: number; refAfter: string | null }) {
  const calls: string[] = [];
  const logged: { external_id: string; head_sha: string }[] = [];
  const identity = (p: { name: string; email: string; date: string }) => ({
    name: p.name,
    email: p.email,
    timestamp: Date.parse(p.date) / 1000,
    timezone: "+0000",
  });
  const gh = {
    rest: {
      git: {
        createCommit: (req: CommitRequest) => {
          calls.push("createCommit");
          const raw = buildRawCommit({
            ...req,
            author: identity(req.author),
            committer: identity(req.committer),
          });
          return Promise.resolve({ data: { sha: commitSha(raw) } });
        },
        updateRef: (req: { force: boolean }) => {
          calls.push(`updateRef force=${String(req.force)}`);
          if (options.update === undefined) return Promise.resolve({ data: {} });
          return Promise.reject(
            Object.assign(new Error("Update is not a fast forward"), { status: options.update }),
          );
        },
        getRef: () => {
          calls.push("getRef");
          if (options.refAfter === null)
            return Promise.reject(Object.assign(new Error("Not Found"), { status: 404 }));
          return Promise.resolve({ data: { object: { sha: options.refAfter } } });
        },
      },
      checks: {
        create: (req: { external_id: string; head_sha: string }) => {
          calls.push("checks.create");
          logged.push({ external_id: req.external_id, head_sha: req.head_sha });
          return Promise.resolve({ data: {} });
        },
      },
    },
  };
  // Only the four endpoints a refresh uses exist on this stand-in.
  return { gh: gh as unknown as GitHub, calls, logged };
}

const noop = () => undefined;
// refreshRecord only calls info and error; a silent stand-in for Probot's pino logger.
const silent = { info: noop, error: noop, warn: noop, debug: noop } as unknown as Logger;

async function setup(now: Date) {
  const s = await signer();
  const metrics = pullgateMetrics();
  const deps = { signer: s, now: () => now, log: silent, metrics };
  const target: RefreshTarget = {
    repo: { owner: "acme", repo: "gitops" },
    environment: "production",
    refName: "heads/approved/production",
    head: { sha: HEAD, fields: headFields(s.fingerprint) },
    intervalMs: 24 * HOUR,
  };
  return { deps, target, metrics };
}

describe("refreshDue", () => {
  const at = (hours: number) => new Date(Date.parse(ISSUED) + hours * HOUR);
  it("is due once the interval has passed, never with interval 0", () => {
    expect(refreshDue(ISSUED, 24 * HOUR, at(23.9))).toBe(false);
    expect(refreshDue(ISSUED, 24 * HOUR, at(24))).toBe(true);
    expect(refreshDue(ISSUED, 0, at(24 * 365))).toBe(false);
    expect(refreshDue("yesterday", 24 * HOUR, at(48))).toBe(false);
  });
});

describe("refreshRecord", () => {
  const due = new Date(Date.parse(ISSUED) + 25 * HOUR);

  it("not due: no request at all", async () => {
    const { deps, target } = await setup(new Date(Date.parse(ISSUED) + HOUR));
    const { gh, calls } = fakeGitHub({ refAfter: HEAD });
    expect(await refreshRecord(deps, gh, target)).toEqual({ kind: "not-due" });
    expect(calls).toEqual([]);
  });

  it("publishes sequence + 1 by fast-forward in 3 requests and logs it on the source commit", async () => {
    const { deps, target, metrics } = await setup(due);
    const { gh, calls, logged } = fakeGitHub({ refAfter: HEAD });
    const outcome = await refreshRecord(deps, gh, target);
    expect(outcome).toMatchObject({ kind: "refreshed", sequence: 5, requests: 3 });
    if (outcome.kind !== "refreshed") throw new Error("expected a refresh");
    expect(outcome.fields).toMatchObject({ sourceCommit: "a".repeat(40), sourceTree: "b".repeat(40) });
    expect(Date.parse(outcome.fields.issuedAt)).toBeGreaterThan(Date.parse(ISSUED));
    expect(calls).toEqual(["createCommit", "updateRef force=false", "checks.create"]);
    expect(logged).toEqual([
      { head_sha: "a".repeat(40), external_id: `pullgate-record:v1:production:5:${outcome.record}` },
    ]);
    expect(metrics.registry.value("pullgate_records_by_source_total", { source: "refresh" })).toBe(1);
  });

  it("the ref moved (a landing's record won): dropped, not logged, not retried", async () => {
    const { deps, target, metrics } = await setup(due);
    const { gh, calls, logged } = fakeGitHub({ update: 422, refAfter: "e".repeat(40) });
    const outcome = await refreshRecord(deps, gh, target);
    expect(outcome).toMatchObject({ kind: "dropped", requests: 3 });
    expect(calls).toEqual(["createCommit", "updateRef force=false", "getRef"]);
    expect(logged).toEqual([]);
    expect(
      metrics.registry.value("pullgate_record_refreshes_dropped_total", { environment: "production" }),
    ).toBe(1);
    expect(metrics.registry.value("pullgate_records_by_source_total", { source: "refresh" })).toBe(0);
  });

  it("GitHub refuses and the ref did not move (protection): an error, not a silent drop", async () => {
    const { deps, target, metrics } = await setup(due);
    const { gh, logged } = fakeGitHub({ update: 422, refAfter: HEAD });
    await expect(refreshRecord(deps, gh, target)).rejects.toThrow(/not a lost race/);
    expect(logged).toEqual([]);
    expect(
      metrics.registry.value("pullgate_record_refreshes_dropped_total", { environment: "production" }),
    ).toBe(0);
  });
});
