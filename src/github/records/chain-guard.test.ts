import { randomBytes } from "node:crypto";
import type { PrivateKey } from "openpgp";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { generateRecordKey, loadSigningKey } from "../../record/keys.js";
import { signRecord, type SignedRecordCommit } from "../../record/sign.js";
import type { GitHub } from "../octokit.js";
import { judgeSha, readApiCommit, rememberApiCommit, type GuardTarget } from "./chain-guard.js";
import type { ApiCommit } from "./genuine.js";

const REPO = { owner: "acme", repo: "gitops" };
const NOW = new Date("2026-12-01T10:00:00Z");
/** A fresh SHA per test: the commit cache is the process's, shared by every test in this file. */
const sha = () => randomBytes(20).toString("hex");

/** A GitHub client whose only route is GET git/commits/{sha}, answered by `answer`. */
function fakeGitHub(answer: (sha: string) => { status: 404 } | { data: unknown }) {
  const getCommit = vi.fn(({ commit_sha }: { commit_sha: string }) => {
    const a = answer(commit_sha);
    if ("status" in a) return Promise.reject(Object.assign(new Error("Not Found"), { status: 404 }));
    return Promise.resolve({ data: a.data });
  });
  // The guard uses this one route; the cast keeps the fake to what the test exercises.
  const gh = { rest: { git: { getCommit } } } as unknown as GitHub;
  return { gh, getCommit };
}

/** What GET git/commits/{sha} answers for a signed commit. */
const apiData = (r: SignedRecordCommit) => ({
  sha: r.sha,
  parents: r.parents.map((p) => ({ sha: p })),
  verification: { payload: r.raw, signature: r.signature },
});
const api = (r: SignedRecordCommit): ApiCommit => ({
  sha: r.sha,
  parents: r.parents,
  payload: r.raw,
  signature: r.signature,
});

describe("chain-guard: commit objects are read once per SHA, and still judged every time", () => {
  let key: PrivateKey;
  let fingerprint: string;
  let publicKey: string;
  beforeAll(async () => {
    const pair = await generateRecordKey({
      name: "pullgate",
      email: "bot@example.com",
      date: new Date("2020-01-01T00:00:00Z"),
    });
    key = await loadSigningKey(pair.privateKey);
    fingerprint = pair.fingerprint;
    publicKey = pair.publicKey;
  });
  const record = (over: { sequence?: number } = {}) =>
    signRecord(
      {
        fields: {
          repository: "acme/gitops",
          environment: "production",
          branch: "main",
          sequence: over.sequence ?? 1,
          sourceCommit: sha(),
          sourceTree: sha(),
          pullRequest: 7,
          approvedBy: ["bob"],
          policyDigest: `sha256:${"c".repeat(64)}`,
          issuedAt: "2026-12-01T09:00:00Z",
          key: fingerprint,
        },
        previousRecord: null,
        identity: { name: "pullgate", email: "bot@example.com" },
      },
      key,
    );
  const target = (gh: GitHub): GuardTarget => ({
    gh,
    repo: REPO,
    appId: 1,
    refName: "heads/approved/production",
    judge: { keyring: [publicKey], repository: "acme/gitops", environment: "production", now: NOW },
  });

  it("a commit read once is not read again", async () => {
    const r = await record();
    const { gh, getCommit } = fakeGitHub(() => ({ data: apiData(r) }));
    const first = await readApiCommit(gh, REPO, r.sha);
    const second = await readApiCommit(gh, REPO, r.sha);
    expect(second).toEqual(first);
    expect(getCommit).toHaveBeenCalledTimes(1);
    expect((await judgeSha(target(gh), r.sha)).genuine).toBe(true);
    expect(getCommit).toHaveBeenCalledTimes(1);
  });

  it("an answer for another SHA is neither cached nor accepted", async () => {
    const asked = sha();
    const other = await record();
    const { gh, getCommit } = fakeGitHub(() => ({ data: apiData(other) }));
    const judged = await judgeSha(target(gh), asked);
    expect(judged.genuine).toBe(false);
    if (!judged.genuine) expect(judged.reason).toMatch(/GitHub answered for/);
    await readApiCommit(gh, REPO, asked);
    expect(getCommit).toHaveBeenCalledTimes(2);
  });

  it("an absent commit (404) is asked again next time", async () => {
    const r = await record();
    let exists = false;
    const { gh, getCommit } = fakeGitHub(() => (exists ? { data: apiData(r) } : { status: 404 }));
    expect(await readApiCommit(gh, REPO, r.sha)).toBeNull();
    exists = true;
    expect(await readApiCommit(gh, REPO, r.sha)).toEqual(api(r));
    expect(getCommit).toHaveBeenCalledTimes(2);
  });

  it("the record the app just wrote is judged from its own bytes, without a read", async () => {
    const r = await record();
    const { gh, getCommit } = fakeGitHub(() => ({ status: 404 }));
    rememberApiCommit(REPO, api(r));
    expect(await judgeSha(target(gh), r.sha)).toMatchObject({ genuine: true, fields: { sequence: 1 } });
    expect(getCommit).not.toHaveBeenCalled();
  });

  it("remembered bytes that do not hash to their SHA are refused, as GitHub's answer would be", async () => {
    const r = await record();
    const { gh } = fakeGitHub(() => ({ status: 404 }));
    rememberApiCommit(REPO, {
      ...api(r),
      payload: r.raw.replace("Pullgate-Sequence: 1", "Pullgate-Sequence: 9"),
    });
    const judged = await judgeSha(target(gh), r.sha);
    expect(judged.genuine).toBe(false);
    if (!judged.genuine) expect(judged.reason).toMatch(/do not hash/);
  });

  it("the cache is per repository: the same SHA in another repository is read there", async () => {
    const r = await record();
    const { gh, getCommit } = fakeGitHub(() => ({ data: apiData(r) }));
    await readApiCommit(gh, REPO, r.sha);
    await readApiCommit(gh, { owner: "acme", repo: "other" }, r.sha);
    expect(getCommit).toHaveBeenCalledTimes(2);
  });
});
