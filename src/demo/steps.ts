/**
 * The demo's story: each step is a real scenario played in the world (real git pushes, real
 * reviews, the real app deciding over webhooks) and checked against the outcome pullgate must
 * produce. Steps run in order and share what they built (the PR blocked in one step is the one
 * that passes later; the agent verifies the records the merges published).
 */
import { parseRecordMessage, type RecordFields } from "../record/index.js";
import { RecordVerificationError } from "../record/errors.js";
import { agentVerify, gitVerifyCommit } from "./agent-check.js";
import type { Observations } from "./observations.js";
import { ENVIRONMENT } from "./seed.js";
import type { CheckView, PullRequestRef, World } from "./world.js";

export const STEP_NAMES = [
  "unsigned-commit-blocked",
  "untrusted-key-blocked",
  "missing-codeowner-approval-blocked",
  "self-approval-ignored",
  "stale-approval-void",
  "codeowners-change-in-pr-ignored",
  "compliant-pr-passes",
  "record-published",
  "direct-push-alerted",
  "agent-verifies",
] as const;
export type StepName = (typeof STEP_NAMES)[number];

export interface DemoContext {
  world: World;
  /** The app's public key file: what environments pin. */
  keysPath: string;
  /** Scratch space for the agent's cache. */
  scratch: string;
  /** The production change blocked for want of a code owner, approved later. */
  prodPull?: PullRequestRef;
  /** Records published so far, oldest first. */
  records: { sha: string; fields: RecordFields }[];
  /** The commit mallory pushed straight to main. */
  directPush?: string;
}

export interface StepDefinition {
  name: StepName;
  /** The scenario, one sentence (narration). */
  scenario: string;
  /** Why the outcome matters (narration). */
  why: string;
  run(ctx: DemoContext, seen: Observations): Promise<void>;
}

const short = (sha: string) => sha.slice(0, 7);
const RECORD_BRANCH = `approved/${ENVIRONMENT}`;

function ruleStatus(check: CheckView | null, id: string): string {
  return check?.decision?.rules.find((r) => r.id === id)?.status ?? "absent";
}

function describeCheck(check: CheckView | null, sha: string): string {
  if (check === null) return `no pullgate check on ${short(sha)}`;
  return `pullgate's check on ${short(sha)}: ${check.conclusion ?? check.status} ("${check.title}")`;
}

/** The decision must record the head commit's signature as not verified. */
function expectSignatureRefused(seen: Observations, check: CheckView | null, sha: string): void {
  const verdict = check?.decision?.signatures.find((s) => s.commit === sha);
  seen.expect(
    verdict?.verified === false,
    `the decision should record ${short(sha)}'s signature as not verified`,
  );
}

/** A check that must have concluded failure because `rule` failed. */
function expectBlockedBy(seen: Observations, check: CheckView | null, sha: string, rule: string): void {
  seen.note(describeCheck(check, sha));
  seen.expect(check?.conclusion === "failure", `the check on ${short(sha)} should conclude failure`);
  seen.expect(
    ruleStatus(check, rule) === "fail",
    `rule "${rule}" should fail (it is ${ruleStatus(check, rule)})`,
  );
}

async function readRecord(
  world: World,
  sha: string,
): Promise<{ fields: RecordFields; parents: string[]; tree: string }> {
  const { data } = await world.admin.request("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", {
    owner: world.org,
    repo: world.repo,
    commit_sha: sha,
  });
  const parsed = parseRecordMessage(data.message);
  if (!parsed.fields) throw new Error(`${short(sha)} is not a pullgate record: ${parsed.errors.join("; ")}`);
  return { fields: parsed.fields, parents: data.parents.map((p) => p.sha), tree: data.tree.sha };
}

async function treeOf(world: World, sha: string): Promise<string> {
  const { data } = await world.admin.request("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", {
    owner: world.org,
    repo: world.repo,
    commit_sha: sha,
  });
  return data.tree.sha;
}

/** Merges an approved PR and checks the record it must publish (sequence, tree, parents). */
async function mergeAndExpectRecord(
  ctx: DemoContext,
  seen: Observations,
  pull: PullRequestRef,
): Promise<void> {
  const { world } = ctx;
  const { alice } = world.people;
  const merged = await world.merge(alice, pull.number, "squash");
  const recordSha = await world.branchHead(RECORD_BRANCH);
  if (recordSha === null || ctx.records.some((r) => r.sha === recordSha)) {
    seen.fail(
      `merging PR #${pull.number} as ${short(merged)} should publish a new record on ${RECORD_BRANCH}`,
    );
    return;
  }
  const record = await readRecord(world, recordSha);
  const previous = ctx.records[ctx.records.length - 1];
  const expectedSequence = (previous?.fields.sequence ?? 0) + 1;
  const expectedParents = previous ? [previous.sha, merged] : [merged];
  seen.note(
    `PR #${pull.number} squash-merged as ${short(merged)} → record #${record.fields.sequence} ${short(recordSha)} ` +
      `(approved by ${record.fields.approvedBy.map((a) => `@${a}`).join(", ")})`,
  );
  seen.expect(record.fields.sequence === expectedSequence, `record sequence should be ${expectedSequence}`);
  seen.expect(record.fields.sourceCommit === merged, `record should name source commit ${short(merged)}`);
  seen.expect(record.fields.pullRequest === pull.number, `record should name PR #${pull.number}`);
  seen.expect(
    record.tree === (await treeOf(world, merged)) && record.tree === record.fields.sourceTree,
    "the record's tree should be the merged commit's tree",
  );
  seen.expect(
    JSON.stringify(record.parents) === JSON.stringify(expectedParents),
    `record parents should be [${expectedParents.map(short).join(", ")}]`,
  );
  ctx.records.push({ sha: recordSha, fields: record.fields });
}

export const STEPS: readonly StepDefinition[] = [
  {
    name: "unsigned-commit-blocked",
    scenario: "Alice opens a pull request whose commit is not signed.",
    why: "Without a signature anyone holding a token (or a stolen laptop's credentials) can put words in Alice's mouth; pullgate requires every pushed commit to be signed by a key the repository trusts.",
    async run({ world }, seen) {
      const { alice } = world.people;
      const pr = await world.openPull(
        alice,
        "unsigned-change",
        { "clusters/dev/app.yaml": "replicas: 2\n" },
        { key: null },
      );
      seen.note(`PR #${pr.number} by @alice, unsigned commit ${short(pr.headSha)}`);
      const check = await world.check(pr.headSha);
      expectBlockedBy(seen, check, pr.headSha, "signatures");
      expectSignatureRefused(seen, check, pr.headSha);
    },
  },
  {
    name: "untrusted-key-blocked",
    scenario: "Alice's commit is signed, but with a key that is not in the repository's allowed_signers.",
    why: "A signature only means something if the key is trusted: the keyring is read from the base branch, so a PR cannot bring its own key.",
    async run({ world }, seen) {
      const { alice } = world.people;
      const pr = await world.openPull(
        alice,
        "stranger-key",
        { "clusters/dev/app.yaml": "replicas: 3\n" },
        { key: world.strangerKey },
      );
      seen.note(`PR #${pr.number} by @alice, commit ${short(pr.headSha)} signed by an untrusted SSH key`);
      const check = await world.check(pr.headSha);
      expectBlockedBy(seen, check, pr.headSha, "signatures");
      expectSignatureRefused(seen, check, pr.headSha);
    },
  },
  {
    name: "missing-codeowner-approval-blocked",
    scenario: "Alice changes production; Olivia (platform) approves, but production belongs to @acme/sre.",
    why: "An approval is not enough: the people who own the path (CODEOWNERS on the base branch) must agree.",
    async run(ctx, seen) {
      const { world } = ctx;
      const { alice, olivia } = world.people;
      const pr = await world.openPull(alice, "prod-replicas", { "clusters/prod/app.yaml": "replicas: 3\n" });
      ctx.prodPull = pr;
      await world.review(olivia, pr.number, "APPROVE");
      seen.note(`PR #${pr.number} by @alice changes clusters/prod/app.yaml; @olivia approved`);
      const check = await world.check(pr.headSha);
      expectBlockedBy(seen, check, pr.headSha, "codeowners");
      seen.expect(
        ruleStatus(check, "approvals") === "pass",
        "the approvals rule itself should pass (olivia counts)",
      );
      seen.expect(
        check?.text.includes("@acme/sre") === true,
        "the check should name @acme/sre as the missing owner",
      );
    },
  },
  {
    name: "self-approval-ignored",
    scenario: "Bob (SRE, a code owner) pushes his own commit onto Alice's production PR, then approves it.",
    why: "GitHub stops authors approving their own PRs, but not someone approving what they pushed themselves; pullgate discards the last pusher's approval (require_last_push_approval).",
    async run({ world }, seen) {
      const { alice, bob } = world.people;
      const pr = await world.openPull(alice, "prod-cache", { "clusters/prod/cache.yaml": "size: 1Gi\n" });
      const head = await world.pushCommit(
        bob,
        "prod-cache",
        { "clusters/prod/cache.yaml": "size: 64Gi\n" },
        "Bigger cache",
      );
      await world.review(bob, pr.number, "APPROVE", head);
      seen.note(`PR #${pr.number}: @bob pushed ${short(head)} and approved it`);
      const check = await world.check(head);
      expectBlockedBy(seen, check, head, "last-push");
      seen.expect(check?.decision?.lastPusher === "bob", "pullgate should know @bob pushed the head");
      const counted = check?.decision?.approvedBy ?? [];
      seen.expect(
        !counted.includes("bob"),
        `@bob should not be among the approvers that counted (the decision's approvedBy is [${counted.join(", ")}])`,
      );
    },
  },
  {
    name: "stale-approval-void",
    scenario: "Bob approves Alice's production PR; then Alice pushes another commit.",
    why: "Approvals are tied to the exact commit they were given on, never to timestamps: what runs in production is what was reviewed.",
    async run({ world }, seen) {
      const { alice, bob } = world.people;
      const pr = await world.openPull(alice, "prod-limits", { "clusters/prod/limits.yaml": "cpu: 1\n" });
      await world.review(bob, pr.number, "APPROVE");
      const before = await world.check(pr.headSha);
      seen.note(`PR #${pr.number}: @bob approved ${short(pr.headSha)} → ${before?.conclusion ?? "no check"}`);
      seen.expect(before?.conclusion === "success", `the approved head ${short(pr.headSha)} should pass`);
      const head = await world.pushCommit(
        alice,
        "prod-limits",
        { "clusters/prod/limits.yaml": "cpu: 64\n" },
        "More CPU",
      );
      seen.note(`@alice then pushed ${short(head)}`);
      const after = await world.check(head);
      expectBlockedBy(seen, after, head, "codeowners");
      const bobsReview = after?.decision?.reviews.find((r) => r.user === "bob");
      seen.expect(
        bobsReview?.commitId === pr.headSha,
        `@bob's approval should be recorded on ${short(pr.headSha)}`,
      );
      seen.expect(
        after?.decision?.approvedBy.includes("bob") === false,
        "@bob's stale approval should not count",
      );
    },
  },
  {
    name: "codeowners-change-in-pr-ignored",
    scenario:
      "Mallory's PR rewrites CODEOWNERS to make her accomplice Alice own everything, changes production, and Alice approves.",
    why: "Policy, CODEOWNERS and keyring come from the base branch, never from the PR: a change cannot choose its own reviewers. Changing CODEOWNERS itself needs a policy admin.",
    async run({ world }, seen) {
      const { mallory, alice } = world.people;
      const pr = await world.openPull(mallory, "own-everything", {
        ".github/CODEOWNERS": "* @alice\n",
        "clusters/prod/app.yaml": "replicas: 0\n",
      });
      await world.review(alice, pr.number, "APPROVE");
      seen.note(`PR #${pr.number} by @mallory: CODEOWNERS → "* @alice", prod replicas → 0; @alice approved`);
      const check = await world.check(pr.headSha);
      expectBlockedBy(seen, check, pr.headSha, "codeowners");
      seen.expect(
        check?.text.includes("@acme/sre") === true,
        "main's owners (@acme/sre) should still be required",
      );
      seen.expect(
        ruleStatus(check, "sensitive-paths") === "fail",
        "the CODEOWNERS change should need an admin",
      );
    },
  },
  {
    name: "compliant-pr-passes",
    scenario: "Bob (SRE) approves Alice's signed production change from step 3.",
    why: "The gate is not a wall: a signed change approved by its code owners passes, and the check says exactly why.",
    async run(ctx, seen) {
      const { world } = ctx;
      const { alice, bob } = world.people;
      ctx.prodPull ??= await world.openPull(alice, "prod-replicas-2", {
        "clusters/prod/app.yaml": "replicas: 3\n",
      });
      const pr = ctx.prodPull;
      await world.review(bob, pr.number, "APPROVE");
      const check = await world.check(pr.headSha);
      seen.note(`PR #${pr.number}: @bob approved; ${describeCheck(check, pr.headSha)}`);
      seen.expect(check?.conclusion === "success", "the check should conclude success");
      seen.expect(check?.decision?.status === "pass", "every rule should pass");
    },
  },
  {
    name: "record-published",
    scenario:
      "Alice merges the approved PR; then a second change (dev, owned by platform) is approved by Olivia and merged.",
    why: `Each approved merge gets a signed approved-revision record on ${RECORD_BRANCH}: a commit whose tree is exactly the reviewed tree, chained to the previous record, that environments verify before deploying.`,
    async run(ctx, seen) {
      const { world } = ctx;
      const { alice, olivia } = world.people;
      if (!ctx.prodPull)
        throw new Error("no approved production PR to merge (step compliant-pr-passes did not run)");
      await mergeAndExpectRecord(ctx, seen, ctx.prodPull);
      const second = await world.openPull(alice, "dev-replicas", {
        "clusters/dev/app.yaml": "replicas: 4\n",
      });
      await world.review(olivia, second.number, "APPROVE");
      const check = await world.check(second.headSha);
      seen.expect(check?.conclusion === "success", `PR #${second.number} should pass once @olivia approves`);
      await mergeAndExpectRecord(ctx, seen, second);
      seen.expect(ctx.records.length >= 2, "two merges should have published two records");
    },
  },
  {
    name: "direct-push-alerted",
    scenario: "Mallory skips review and pushes a commit (signed with her trusted key) straight to main.",
    why: "Branch protection can be misconfigured or bypassed; pullgate notices, publishes no record (so agents keep running the last approved revision) and raises the alarm.",
    async run(ctx, seen) {
      const { world } = ctx;
      const { mallory } = world.people;
      const recordBefore = await world.branchHead(RECORD_BRANCH);
      const sha = await world.pushCommit(
        mallory,
        "main",
        { "clusters/prod/app.yaml": "replicas: 0\n" },
        "hotfix",
      );
      ctx.directPush = sha;
      seen.note(`@mallory pushed ${short(sha)} to main`);
      const repo = { owner: world.org, repo: world.repo };
      const { data: statuses } = await world.admin.request(
        "GET /repos/{owner}/{repo}/commits/{ref}/statuses",
        {
          ...repo,
          ref: sha,
        },
      );
      const alert = statuses.find((s) => s.context === "pullgate/record");
      seen.note(
        `commit status pullgate/record: ${alert ? `${alert.state} ("${alert.description ?? ""}")` : "none"}`,
      );
      seen.expect(alert?.state === "failure", `a failing pullgate/record status should mark ${short(sha)}`);
      const { data: issues } = await world.admin.request("GET /repos/{owner}/{repo}/issues", {
        ...repo,
        labels: "pullgate-alert",
        state: "open",
      });
      const issue = issues[0];
      let mentions = issue?.body?.includes(sha) === true;
      if (issue && !mentions) {
        const { data: comments } = await world.admin.request(
          "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
          { ...repo, issue_number: issue.number },
        );
        mentions = comments.some((c) => c.body?.includes(sha) === true);
      }
      seen.note(issue ? `alert issue #${issue.number} "${issue.title}"` : "no alert issue");
      seen.expect(mentions, `an open pullgate-alert issue should name ${short(sha)}`);
      const recordAfter = await world.branchHead(RECORD_BRANCH);
      seen.note(`${RECORD_BRANCH} stays at ${recordAfter ? short(recordAfter) : "nothing"}`);
      seen.expect(recordAfter === recordBefore, `${RECORD_BRANCH} must not move for a direct push`);
    },
  },
  {
    name: "agent-verifies",
    scenario: `An environment's agent fetches ${RECORD_BRANCH} over git smart HTTP and verifies it with nothing but the app's public key.`,
    why: "Deployments trust the signed record, not GitHub or the network: Flux (verify mode HEAD), Argo CD (signature keys) or `pullgate agent` check it before applying anything.",
    async run(ctx, seen) {
      const { world } = ctx;
      const newest = ctx.records[ctx.records.length - 1];
      if (!newest) throw new Error("no record was published to verify");
      try {
        const verified = await agentVerify({
          url: world.remoteUrl(),
          repository: `${world.org}/${world.repo}`,
          environment: ENVIRONMENT,
          keysPath: ctx.keysPath,
          workDir: ctx.scratch,
          gitEnv: world.gitEnv,
        });
        seen.note(
          `pullgate verify: record #${verified.fields.sequence} ${short(verified.recordCommit)} verified ` +
            `(signed by ${verified.signer.slice(-16)}, source ${short(verified.fields.sourceCommit)}, PR #${verified.fields.pullRequest})`,
        );
        seen.expect(
          verified.recordCommit === newest.sha,
          `the agent should verify the newest record ${short(newest.sha)}`,
        );
        seen.expect(
          verified.fields.sourceCommit !== ctx.directPush,
          "mallory's direct push must not be what the agent deploys",
        );
      } catch (error) {
        if (!(error instanceof RecordVerificationError)) throw error;
        seen.fail(`the agent refused the record: ${error.code}: ${error.message}`);
      }
      const gpg = await gitVerifyCommit(world.bareRepository, newest.sha, ctx.keysPath, world.gitEnv);
      if (gpg.kind === "no-gpg") seen.note("gpg not installed: git verify-commit skipped");
      else {
        seen.note(
          `git verify-commit ${short(newest.sha)}: ${gpg.kind === "verified" ? "good signature" : "refused"}`,
        );
        seen.expect(gpg.kind === "verified", `git verify-commit should accept the record (${gpg.output})`);
      }
    },
  },
];
