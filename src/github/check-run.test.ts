/**
 * The check-run lifecycle's supersede step against a GitHub whose runs change between reads, the
 * interleavings two replicas produce. The attack: an orphan-closing pass that turns a completed
 * failure into "cancelled", which reviewers (and anything reading conclusions) take for
 * not-a-failure.
 */
import { describe, expect, it } from "vitest";
import { CHECK_NAME, startEvaluation, supersedeRuns, SUPERSEDED_OUTPUT } from "./check-run.js";
import type { GitHub } from "./octokit.js";

const REPO = { owner: "acme", repo: "gitops" };
const SHA = "a".repeat(40);
const APP_ID = 7;

interface Run {
  id: number;
  status: "in_progress" | "completed";
  conclusion: string | null;
  title: string;
}

/**
 * The few check-run calls of the lifecycle over an in-memory list of runs. `before` hooks run
 * just before a call is answered: that is where another replica's write lands.
 */
function fakeChecks(initial: Run[]) {
  const runs = new Map(initial.map((r) => [r.id, { ...r }]));
  const hooks: Partial<Record<"get" | "update" | "create" | "list", () => void>> = {};
  const updates: { id: number; conclusion: string }[] = [];
  let failUpdates = 0;
  let nextId = 100;
  const listForRef = () => undefined;
  const gh = {
    rest: {
      checks: {
        listForRef,
        get: (p: { check_run_id: number }) => {
          hooks.get?.();
          const run = runs.get(p.check_run_id);
          return run
            ? Promise.resolve({ data: { ...run } })
            : Promise.reject(Object.assign(new Error("Not Found"), { status: 404 }));
        },
        create: () => {
          hooks.create?.();
          const id = nextId++;
          runs.set(id, { id, status: "in_progress", conclusion: null, title: "Evaluating" });
          return Promise.resolve({ data: { id } });
        },
        update: (p: { check_run_id: number; conclusion: string; output: { title: string } }) => {
          hooks.update?.();
          if (failUpdates > 0) {
            failUpdates--;
            return Promise.reject(Object.assign(new Error("Bad Gateway"), { status: 502 }));
          }
          updates.push({ id: p.check_run_id, conclusion: p.conclusion });
          runs.set(p.check_run_id, {
            id: p.check_run_id,
            status: "completed",
            conclusion: p.conclusion,
            title: p.output.title,
          });
          return Promise.resolve({ data: {} });
        },
      },
    },
    paginate: (method: unknown) => {
      if (method !== listForRef) return Promise.reject(new Error("unexpected request"));
      hooks.list?.();
      return Promise.resolve(
        [...runs.values()].map((r) => ({
          ...r,
          name: CHECK_NAME,
          head_sha: SHA,
          app: { id: APP_ID },
          output: { text: null },
        })),
      );
    },
  };
  return {
    // A structural fake of the calls the lifecycle makes (the full type is Probot's Octokit).
    gh: gh as unknown as GitHub,
    runs,
    hooks,
    updates,
    failNextUpdates: (n: number) => {
      failUpdates = n;
    },
  };
}

/** Another replica completing its own evaluation of run `id` as a failure. */
function completeElsewhere(fake: ReturnType<typeof fakeChecks>, id: number) {
  fake.runs.set(id, { id, status: "completed", conclusion: "failure", title: "Missing approval" });
}

const warnings: string[] = [];
const log = { warn: (_fields: Record<string, unknown>, message: string) => void warnings.push(message) };

describe("supersedeRuns: only runs still in progress are closed", () => {
  it("closes a run left in progress as cancelled", async () => {
    const fake = fakeChecks([{ id: 1, status: "in_progress", conclusion: null, title: "Evaluating" }]);
    await supersedeRuns(fake.gh, REPO, [1], log);
    expect(fake.runs.get(1)).toMatchObject({ status: "completed", conclusion: SUPERSEDED_OUTPUT.conclusion });
  });

  it("never overwrites a run that completed after it was listed in progress", async () => {
    // Listed in progress by the new evaluation; its own evaluation then completes it as a failure.
    const fake = fakeChecks([{ id: 1, status: "in_progress", conclusion: null, title: "Evaluating" }]);
    completeElsewhere(fake, 1);
    await supersedeRuns(fake.gh, REPO, [1], log);
    expect(fake.runs.get(1)).toMatchObject({ conclusion: "failure", title: "Missing approval" });
    expect(fake.updates).toEqual([]);
  });

  it("reads the run again before a retry: a failure completed while the write was being retried stands", async () => {
    const fake = fakeChecks([{ id: 1, status: "in_progress", conclusion: null, title: "Evaluating" }]);
    fake.failNextUpdates(1);
    let gets = 0;
    fake.hooks.get = () => {
      // The first attempt reads it in progress, fails with a 502; the failure lands before the retry.
      if (++gets === 2) completeElsewhere(fake, 1);
    };
    await supersedeRuns(fake.gh, REPO, [1], log);
    expect(fake.runs.get(1)).toMatchObject({ conclusion: "failure", title: "Missing approval" });
    expect(fake.updates).toEqual([]);
  });

  it("a run that cannot be read is left alone and the others are still handled", async () => {
    const fake = fakeChecks([{ id: 2, status: "in_progress", conclusion: null, title: "Evaluating" }]);
    warnings.length = 0;
    await supersedeRuns(fake.gh, REPO, [1, 2], log);
    expect(fake.updates).toEqual([{ id: 2, conclusion: "cancelled" }]);
    expect(warnings).toEqual(["could not close a superseded check run"]);
  });
});

describe("startEvaluation: start, then supersede", () => {
  it("a failure completed by another replica between the listing and the supersede is kept", async () => {
    const fake = fakeChecks([
      { id: 1, status: "completed", conclusion: "success", title: "Approved" },
      { id: 2, status: "in_progress", conclusion: null, title: "Evaluating" },
    ]);
    // The listing sees run 2 in progress; while our run is being created, run 2's own replica
    // completes it as a failure.
    fake.hooks.create = () => completeElsewhere(fake, 2);
    const started = await startEvaluation(fake.gh, REPO, SHA, APP_ID, log);
    expect(started.past.inProgress).toEqual([2]);
    expect(started.past.latest?.checkRunId).toBe(1);
    expect(fake.runs.get(2)).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(fake.runs.get(started.checkRunId)?.status).toBe("in_progress");
    expect(fake.updates).toEqual([]);
  });

  it("an orphan still in progress (its replica died) is cancelled; the new run is not", async () => {
    const fake = fakeChecks([{ id: 2, status: "in_progress", conclusion: null, title: "Evaluating" }]);
    const started = await startEvaluation(fake.gh, REPO, SHA, APP_ID, log);
    expect(fake.updates).toEqual([{ id: 2, conclusion: "cancelled" }]);
    expect(fake.runs.get(started.checkRunId)?.status).toBe("in_progress");
  });
});
