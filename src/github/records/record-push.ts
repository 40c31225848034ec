/**
 * Finding 1 of issue 12, the watch: every push to a record ref (`approved/<env>`) that is not the
 * app's own compare-and-swap raises the bypass alert naming who pushed what. "The app's own" is
 * decided from the commits, never from the pusher's name (a stolen app token or a user named like
 * the bot proves nothing): the new head must be a genuine record (genuine.ts) that extends the
 * previous head by one (head-decision.ts, classifyRecordPush). A deletion is alerted too.
 * Cost of the app's own push: the two commits read (new head, previous head).
 */
import type { Logger } from "probot";
import type { GitHub, RepoRef } from "../octokit.js";
import { raiseAlert } from "./alert.js";
import { judgeSha, type GuardTarget } from "./chain-guard.js";
import type { RecordJudgement } from "./genuine.js";
import { classifyRecordPush } from "./head-decision.js";
import type { PushOutcome, RecordSigner } from "./types.js";

export interface RecordPushDeps {
  appId: number;
  signer: RecordSigner | null;
  now: () => Date;
  log: Logger;
  onAlert: () => void;
  appLogin: () => Promise<string>;
}

export interface RecordPush {
  ref: string;
  branch: string;
  environment: string;
  before: string;
  after: string;
  deleted: boolean;
  pusher: string;
}

const ZERO_SHA = /^0{40}$/;

/** Escapes a login or ref for the alert's markdown (they come from the event). */
const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;

export async function watchRecordPush(
  deps: RecordPushDeps,
  gh: GitHub,
  repo: RepoRef,
  push: RecordPush,
): Promise<PushOutcome> {
  const { environment, branch } = push;
  let verdict: { own: true } | { own: false; what: string };
  if (!deps.signer) {
    // Without its key the app publishes nothing, so nothing on the record ref is its own.
    verdict = { own: false, what: push.deleted ? "deleted it" : `pushed ${push.after.slice(0, 7)}` };
  } else {
    const target: GuardTarget = {
      gh,
      repo,
      appId: deps.appId,
      refName: `heads/${branch}`,
      judge: {
        keyring: [deps.signer.key.toPublic().armor()],
        repository: `${repo.owner}/${repo.repo}`,
        environment,
        now: deps.now(),
      },
    };
    const after = push.deleted ? null : await judgeSha(target, push.after);
    const before = ZERO_SHA.test(push.before) ? null : await judgeSha(target, push.before);
    verdict = classifyRecordPush(after, before, await parentSequence(target, after, before));
  }
  if (verdict.own) return { kind: "ignored", why: "the app's own record" };

  const reason = `@${push.pusher} ${verdict.what}`;
  const body = [
    `**${code(branch)}** (environment ${code(environment)}) was changed by someone other than pullgate.`,
    "",
    `- Pushed by: @${push.pusher}`,
    `- What: ${verdict.what}`,
    `- Before: ${ZERO_SHA.test(push.before) ? "(absent)" : push.before}`,
    `- After: ${push.deleted ? "(deleted)" : push.after}`,
    "",
    `Only pullgate writes approved-revision records. It will not build on this head: the next approved landing restores the chain on the newest record of pullgate's record log and publishes on top of it, and agents refuse anything not signed by pullgate's key. Protect ${code(branch)}: only pullgate may update it, no force-push, no deletion.`,
  ].join("\n");
  const { issue } = await raiseAlert(gh, repo, await deps.appLogin(), {
    key: `record-ref:${branch}:${push.before}:${push.deleted ? "deleted" : push.after}`,
    body,
    ...(push.deleted
      ? {}
      : { status: { commit: push.after, description: `Not pullgate's record: ${reason}` } }),
  });
  deps.onAlert();
  deps.log.warn(
    { ref: push.ref, before: push.before, after: push.after, pusher: push.pusher },
    "record ref changed by someone else",
  );
  return { kind: "alerted", environment, reason, issue };
}

/** The sequence of the new record's first parent, when that parent is a genuine record. */
async function parentSequence(
  target: GuardTarget,
  after: RecordJudgement | null,
  before: RecordJudgement | null,
): Promise<number | null> {
  if (after === null || !after.genuine || after.fields.sequence === 1) return null;
  const parent = after.parents[0];
  if (parent === undefined) return null;
  const judged = before !== null && before.sha === parent ? before : await judgeSha(target, parent);
  return judged.genuine ? judged.fields.sequence : null;
}
