import type { BranchRule, ClassicProtection, RulesetDetail } from "../../core/protection/index.js";
import { httpStatus, type GitHub, type RepoRef } from "../octokit.js";
import { factsError } from "./errors.js";

/** GitHub's fixed ids of the built-in repository roles (principals.ts names them itself). */
const BUILT_IN_ROLE_IDS: ReadonlySet<number> = new Set([2, 4, 5]);

/** The names ProtectionContext needs for the ids GitHub gives in ruleset bypass lists. */
export interface ProtectionNames {
  org?: string;
  /** Team id → "@org/slug". */
  teams: Record<number, string>;
  /** User id → login. */
  users: Record<number, string>;
  /** Custom repository role id → role name. */
  roles: Record<number, string>;
  /**
   * Why some ids stay unnamed, for the audit's notes: on github.com the custom-roles endpoint does
   * not exist (docs/audit.md, "Custom repository roles"), so a role bypass actor shows as its id.
   */
  notes: string[];
}

/** The org's custom repository roles, or why they cannot be listed. */
interface CustomRoles {
  names: Record<number, string>;
  /** Set when GitHub would not list them (404 on github.com, 403 without permission). */
  unavailable: string | null;
}

/** Everything the protection core needs about one branch, as GitHub answered. */
export interface BranchProtectionFacts {
  branch: string;
  /** Classic protection; null when GitHub says "Branch not protected" (or the branch does not exist). */
  classic: ClassicProtection | null;
  /** `GET /repos/{o}/{r}/rules/branches/{b}`: every active rule applying to the branch, any level. */
  rules: BranchRule[];
  /** Details (enforcement, bypass list) of each distinct ruleset the rules name, where readable. */
  rulesets: RulesetDetail[];
  names: ProtectionNames;
  /** What could not be read and is therefore not credited (the core fails closed on it). */
  notes: string[];
}

/**
 * Per-run cache of what is shared between branches and repositories: org rulesets, the org's teams,
 * user logins, custom roles, and each repository's ruleset details. One audit run (a webhook, an
 * org sweep, a CLI invocation) uses one cache, so a thousand repositories under one org ruleset
 * read that ruleset once. Never keep one across runs: protection changes.
 */
export class ProtectionFactsCache {
  readonly rulesets = new Map<string, Promise<RulesetDetail | null>>();
  readonly teams = new Map<string, Promise<Record<number, string>>>();
  readonly roles = new Map<string, Promise<CustomRoles>>();
  readonly users = new Map<number, Promise<string | null>>();
  /** Orgs whose ruleset endpoint answered 403/404: their rulesets are read through the repository. */
  readonly orgRulesetsHidden = new Set<string>();

  /** Forgets one repository's ruleset details (after pullgate created or changed one there). */
  forgetRepository(repo: RepoRef): void {
    const prefix = `repo:${repo.owner}/${repo.repo}:`.toLowerCase();
    for (const key of [...this.rulesets.keys()]) if (key.startsWith(prefix)) this.rulesets.delete(key);
  }
}

export interface FetchOptions {
  cache?: ProtectionFactsCache;
  /**
   * False when the branch is known not to exist (a record ref not yet published): classic
   * protection only exists on existing branches, so that request is skipped. Rules still apply by name.
   */
  branchExists?: boolean;
}

/**
 * Reads the protection facts of one branch: classic protection and the rules that apply, in
 * parallel, then the details of each distinct ruleset (cached per run). Typically 3 requests for
 * a branch under one repository ruleset, 2 when every ruleset is already cached. Throws
 * ProtectionFactsError when classic protection or the rules cannot be read (FORBIDDEN: the token
 * lacks "Administration: read"); a ruleset whose details cannot be read is left out with a note,
 * so its rules are not credited.
 */
export async function fetchBranchProtectionFacts(
  gh: GitHub,
  repo: RepoRef,
  branch: string,
  options: FetchOptions = {},
): Promise<BranchProtectionFacts> {
  const cache = options.cache ?? new ProtectionFactsCache();
  const [classic, rules] = await Promise.all([
    options.branchExists === false ? Promise.resolve(null) : fetchClassic(gh, repo, branch),
    fetchRules(gh, repo, branch),
  ]);

  const notes: string[] = [];
  const wanted = new Map<number, BranchRule>();
  for (const rule of rules) {
    if (typeof rule.ruleset_id === "number" && !wanted.has(rule.ruleset_id))
      wanted.set(rule.ruleset_id, rule);
  }
  const rulesets: RulesetDetail[] = [];
  const details = await Promise.all(
    [...wanted.values()].map((rule) => fetchRuleset(gh, repo, rule, cache, notes)),
  );
  for (const detail of details) if (detail) rulesets.push(detail);

  const names = await resolveNames(gh, repo, rulesets, cache);
  return { branch, classic, rules, rulesets, names, notes };
}

async function fetchClassic(gh: GitHub, repo: RepoRef, branch: string): Promise<ClassicProtection | null> {
  try {
    const { data } = await gh.request("GET /repos/{owner}/{repo}/branches/{branch}/protection", {
      ...repo,
      branch,
    });
    return data as ClassicProtection;
  } catch (error) {
    // 404 is "Branch not protected" (or the branch does not exist): no classic protection.
    if (httpStatus(error) === 404) return null;
    throw factsError(
      error,
      `the classic branch protection of ${repo.owner}/${repo.repo}:${branch}`,
      '"Administration: read" repository',
    );
  }
}

async function fetchRules(gh: GitHub, repo: RepoRef, branch: string): Promise<BranchRule[]> {
  try {
    const rules = await gh.paginate("GET /repos/{owner}/{repo}/rules/branches/{branch}", {
      ...repo,
      branch,
      per_page: 100,
    });
    return rules as unknown as BranchRule[];
  } catch (error) {
    // Repositories where rulesets are unavailable answer 404: no rule applies.
    if (httpStatus(error) === 404) return [];
    throw factsError(
      error,
      `the rules applying to ${repo.owner}/${repo.repo}:${branch}`,
      '"Metadata: read" repository',
    );
  }
}

/**
 * One ruleset's details. Organization rulesets are read once per org through the org endpoint
 * (which shows bypass actors to org administrators); where that is refused they are read through
 * the repository, which shows the ruleset but may hide its bypass list (the core then counts it as
 * bypassable by anyone). A ruleset that cannot be read at all is left out: its rules are not credited.
 */
async function fetchRuleset(
  gh: GitHub,
  repo: RepoRef,
  rule: BranchRule,
  cache: ProtectionFactsCache,
  notes: string[],
): Promise<RulesetDetail | null> {
  const id = rule.ruleset_id as number;
  const org = rule.ruleset_source_type === "Organization" ? rule.ruleset_source : undefined;
  if (org) {
    const orgKey = `org:${org}:${id}`.toLowerCase();
    let pending = cache.rulesets.get(orgKey);
    if (!pending) {
      pending = readOrgRuleset(gh, repo, org, id, cache);
      cache.rulesets.set(orgKey, pending);
    }
    const detail = await pending;
    if (!detail) notes.push(`org ruleset ${id} (${org}) could not be read: its rules are not credited`);
    return detail;
  }
  const key = `repo:${repo.owner}/${repo.repo}:${id}`.toLowerCase();
  let pending = cache.rulesets.get(key);
  if (!pending) {
    pending = readRepoRuleset(gh, repo, id);
    cache.rulesets.set(key, pending);
  }
  const detail = await pending;
  if (!detail) notes.push(`ruleset ${id} could not be read: its rules are not credited`);
  return detail;
}

async function readOrgRuleset(
  gh: GitHub,
  repo: RepoRef,
  org: string,
  id: number,
  cache: ProtectionFactsCache,
): Promise<RulesetDetail | null> {
  if (!cache.orgRulesetsHidden.has(org.toLowerCase())) {
    try {
      const { data } = await gh.request("GET /orgs/{org}/rulesets/{ruleset_id}", { org, ruleset_id: id });
      return data as unknown as RulesetDetail;
    } catch (error) {
      const status = httpStatus(error);
      if (status !== 403 && status !== 404) {
        throw factsError(error, `org ruleset ${id} of ${org}`, '"Administration: read" organization');
      }
      // No org permission: stop asking the org endpoint for this org during this run.
      cache.orgRulesetsHidden.add(org.toLowerCase());
    }
  }
  return readRepoRuleset(gh, repo, id);
}

async function readRepoRuleset(gh: GitHub, repo: RepoRef, id: number): Promise<RulesetDetail | null> {
  try {
    const { data } = await gh.request("GET /repos/{owner}/{repo}/rulesets/{ruleset_id}", {
      ...repo,
      ruleset_id: id,
      includes_parents: true,
    });
    return data as unknown as RulesetDetail;
  } catch (error) {
    const status = httpStatus(error);
    // Gone since the rules were listed, or hidden: leave it out, its rules are then not credited.
    if (status === 404 || status === 403) return null;
    throw factsError(
      error,
      `ruleset ${id} of ${repo.owner}/${repo.repo}`,
      '"Administration: read" repository',
    );
  }
}

/** Resolves the team, user and custom-role ids named by bypass lists, asking only for what appears. */
async function resolveNames(
  gh: GitHub,
  repo: RepoRef,
  rulesets: RulesetDetail[],
  cache: ProtectionFactsCache,
): Promise<ProtectionNames> {
  const teamIds = new Set<number>();
  const userIds = new Set<number>();
  const roleIds = new Set<number>();
  for (const ruleset of rulesets) {
    for (const actor of ruleset.bypass_actors ?? []) {
      if (typeof actor.actor_id !== "number") continue;
      if (actor.actor_type === "Team") teamIds.add(actor.actor_id);
      else if (actor.actor_type === "User") userIds.add(actor.actor_id);
      else if (actor.actor_type === "RepositoryRole" && !BUILT_IN_ROLE_IDS.has(actor.actor_id)) {
        roleIds.add(actor.actor_id);
      }
    }
  }
  const org = repo.owner;
  const noRoles: CustomRoles = { names: {}, unavailable: null };
  const [teams, customRoles, users] = await Promise.all([
    teamIds.size > 0 ? cached(cache.teams, org.toLowerCase(), () => listTeams(gh, org)) : {},
    roleIds.size > 0 ? cached(cache.roles, org.toLowerCase(), () => listCustomRoles(gh, org)) : noRoles,
    Promise.all([...userIds].map((id) => cached(cache.users, id, () => userLogin(gh, id)))).then((logins) => {
      const map: Record<number, string> = {};
      [...userIds].forEach((id, i) => {
        const login = logins[i];
        if (login) map[id] = login;
      });
      return map;
    }),
  ]);
  const roles = customRoles.names;
  const unnamed = [...roleIds].filter((id) => roles[id] === undefined).sort((a, b) => a - b);
  const notes: string[] = [];
  if (unnamed.length > 0) {
    const which = `custom repository role${unnamed.length === 1 ? "" : "s"} ${unnamed.join(", ")}`;
    notes.push(
      customRoles.unavailable !== null
        ? `${which} on a ruleset bypass list can only be shown by id (role:<id>): ${customRoles.unavailable}`
        : `${which} on a ruleset bypass list ${unnamed.length === 1 ? "is" : "are"} not among ${org}'s custom repository roles (deleted?), shown by id`,
    );
  }
  return { org, teams, users, roles, notes };
}

function cached<K, V>(map: Map<K, Promise<V>>, key: K, load: () => Promise<V>): Promise<V> {
  let pending = map.get(key);
  if (!pending) {
    pending = load();
    map.set(key, pending);
  }
  return pending;
}

/**
 * The org's teams, id → "@org/slug", one paginated listing per org and run. An unknown id stays
 * unnamed, and an unnamed team is never taken for an allowed principal (fail closed).
 */
async function listTeams(gh: GitHub, org: string): Promise<Record<number, string>> {
  try {
    const teams = await gh.paginate("GET /orgs/{org}/teams", { org, per_page: 100 });
    const map: Record<number, string> = {};
    for (const team of teams) map[team.id] = `@${org}/${team.slug}`;
    return map;
  } catch (error) {
    const status = httpStatus(error);
    // A user-owned repository has no org; a token without members:read sees no teams.
    if (status === 404 || status === 403) return {};
    throw factsError(error, `the teams of ${org}`, '"Members: read" organization');
  }
}

/**
 * The org's custom repository roles, id → name. `GET /orgs/{org}/custom-repository-roles` exists on
 * GitHub Enterprise Cloud and Server only: api.github.com answers 404, so there role bypass actors
 * stay ids, and the audit says why (an unnamed role is never taken for an allowed principal).
 */
async function listCustomRoles(gh: GitHub, org: string): Promise<CustomRoles> {
  try {
    const { data } = await gh.request("GET /orgs/{org}/custom-repository-roles", { org });
    const names: Record<number, string> = {};
    for (const role of (data as { custom_roles?: { id: number; name: string }[] }).custom_roles ?? []) {
      names[role.id] = role.name;
    }
    return { names, unavailable: null };
  } catch (error) {
    const status = httpStatus(error);
    if (status === 404) {
      return {
        names: {},
        unavailable: `GET /orgs/${org}/custom-repository-roles answered 404: custom repository roles can be listed only on GitHub Enterprise Cloud and GitHub Enterprise Server, not on github.com (or ${org} is not an organization)`,
      };
    }
    if (status === 403) {
      return {
        names: {},
        unavailable: `GET /orgs/${org}/custom-repository-roles answered 403: the token may not read the organization's custom roles ("Custom repository roles: read" organization permission)`,
      };
    }
    throw factsError(error, `the custom repository roles of ${org}`, '"Administration: read" organization');
  }
}

async function userLogin(gh: GitHub, id: number): Promise<string | null> {
  try {
    const { data } = await gh.request("GET /user/{account_id}", { account_id: id });
    return (data as { login?: string }).login ?? null;
  } catch (error) {
    if (httpStatus(error) === 404) return null;
    throw factsError(error, `the login of user ${id}`, "public metadata");
  }
}
