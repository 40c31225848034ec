/**
 * The pure review evaluation (src/core/reviews/evaluate.ts) at the design point: a PR of 3,000
 * files (GitHub's listing cap) in a monorepo whose CODEOWNERS has 5,000 rules, with 50 reviews
 * from 30 people, per-team path rules, sensitive paths and every review setting on. This is the
 * CPU an evaluation spends after the facts arrive, on every PR event.
 */
import { compileCodeowners } from "../src/core/codeowners/match.js";
import { parseCodeowners } from "../src/core/codeowners/parse.js";
import type { PathRule, ReviewPolicy } from "../src/core/policy/types.js";
import { evaluateReviews, type EvaluateReviewsInput } from "../src/core/reviews/evaluate.js";
import type { Permission, Review, ReviewFacts, ReviewState } from "../src/core/reviews/types.js";
import { generateCodeowners, generatePaths, PATHS, RULES } from "./codeowners.bench.js";
import { atMost, bestOfMs, type BenchResult } from "./result.js";

export const REVIEWS = 50;
const PEOPLE = 30;
const HEAD = "a".repeat(40);
const OLD_HEAD = "b".repeat(40);

const person = (i: number) => `user-${String(i % PEOPLE).padStart(2, "0")}`;

/** Members of every team the generated CODEOWNERS names (org/slug, lowercase), 4 people each. */
function teamMembers(codeowners: string): Record<string, string[]> {
  const teams = new Set<string>();
  for (const match of codeowners.matchAll(/@org\/([a-z0-9-]+)/g)) teams.add(`org/${match[1]}`);
  const members: Record<string, string[]> = {};
  [...teams].sort().forEach((team, i) => {
    members[team] = [person(i), person(i + 7), person(i + 13), person(i + 21)];
  });
  return members;
}

/**
 * 50 reviews, oldest first: the first ten on an older head (stale: they must not count), comments,
 * changes requested that the same person later turns into an approval, and fresh approvals, so
 * the PR passes and every rule walks every file.
 */
function reviews(): Review[] {
  const state = (i: number): ReviewState => {
    if (i >= PEOPLE) return "APPROVED";
    if (i % 5 === 1) return "COMMENTED";
    if (i % 5 === 2 && i < REVIEWS - PEOPLE) return "CHANGES_REQUESTED";
    return "APPROVED";
  };
  return Array.from({ length: REVIEWS }, (_, i) => ({
    id: i + 1,
    user: person(i),
    state: state(i),
    commitId: i < 10 ? OLD_HEAD : HEAD,
    submittedAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
  }));
}

/** Exactly PATHS distinct changed files, sorted as the adapter hands them over. */
function changedFiles(): string[] {
  const distinct = [...new Set(generatePaths(PATHS * 2))];
  if (distinct.length < PATHS) throw new Error(`only ${distinct.length} distinct paths generated`);
  return distinct.slice(0, PATHS).sort();
}

function pathRules(): PathRule[] {
  return Array.from({ length: 12 }, (_, i) => {
    const team = `team-${String(i * 3).padStart(2, "0")}`;
    return {
      name: `${team}-prod`,
      paths: [`/clusters/prod/${team}/**`, `/apps/${team}-*/**`],
      approvals: 1,
      from: [`@org/${team}`, "@org/prod-approvers"],
    };
  });
}

export function evaluateInput(): EvaluateReviewsInput {
  const text = generateCodeowners();
  const parsed = parseCodeowners(text);
  const permissions: Record<string, Permission> = {};
  for (let i = 0; i < PEOPLE; i++) permissions[person(i)] = i % 10 === 9 ? "read" : "write";
  permissions.author = "write";
  const facts: ReviewFacts = {
    author: "author",
    headSha: HEAD,
    lastPusher: "author",
    changedFiles: changedFiles(),
    reviews: reviews(),
    permissions,
    teamMembers: teamMembers(text),
    signers: [],
  };
  const policy: ReviewPolicy = {
    requiredApprovals: 2,
    requireCodeOwnerReview: true,
    dismissStaleApprovals: true,
    requireLastPushApproval: true,
  };
  return {
    facts,
    reviews: policy,
    pathRules: pathRules(),
    admins: ["@org/platform-admins", "@org/security"],
    sensitivePaths: ["/.github/**", "/CODEOWNERS", "/flux-system/**", "/clusters/*/kube-system/**"],
    codeowners: compileCodeowners(parsed),
  };
}

export async function benchEvaluate(): Promise<BenchResult[]> {
  const input = evaluateInput();
  const results = evaluateReviews(input);
  // A passing PR: every rule had to look at every file (a failure could stop early).
  const notPassed = results.filter((r) => r.status !== "pass");
  if (notPassed.length > 0)
    throw new Error(`expected every rule to pass: ${notPassed.map((r) => r.id).join(", ")}`);

  const evaluateMs = bestOfMs(() => evaluateReviews(input), 15, 3);
  // Per base commit, the adapter also parses and compiles CODEOWNERS once; with it, the whole core.
  const text = generateCodeowners();
  const withCompileMs = bestOfMs(
    () => evaluateReviews({ ...input, codeowners: compileCodeowners(parseCodeowners(text)) }),
    10,
    2,
  );
  return [
    atMost(`evaluate.reviews_${PATHS}_files_${RULES}_rules_${REVIEWS}_reviews`, evaluateMs, "ms", 100),
    atMost("evaluate.reviews_with_codeowners_parse_compile", withCompileMs, "ms", 150),
  ];
}
