import type { SandboxCore } from "../core.js";
import { nodeId } from "../core.js";
import { HttpError, invalidRequest, notFound, validationFailed } from "../http/errors.js";
import { created, noContent, ok, type ApiRequest, type Body } from "../http/request.js";
import { paginate } from "../http/pagination.js";
import type { Router } from "../http/router.js";
import type { RepoRecord, RulesetBypassActor, RulesetRecord, RulesetRule } from "../state/types.js";
import { protectionFromBody, protectionJson, protectionRuleJson } from "../protection/model.js";
import { rulesFor, rulesetCoversRepo } from "../protection/rulesets.js";
import { bypassesRuleset } from "../protection/enforce.js";
import { mergeQueueParametersError } from "../queue/rule.js";

const notProtected = () => new HttpError(404, "Branch not protected");

const RULE_TYPES = new Set([
  "creation",
  "update",
  "deletion",
  "required_linear_history",
  "required_deployments",
  "required_signatures",
  "pull_request",
  "required_status_checks",
  "non_fast_forward",
  "commit_message_pattern",
  "commit_author_email_pattern",
  "committer_email_pattern",
  "branch_name_pattern",
  "tag_name_pattern",
  "merge_queue",
  "code_scanning",
  "workflows",
]);

function parseRules(body: Body): RulesetRule[] {
  return (body.optArray("rules") ?? []).map((raw) => {
    const rule = raw as { type?: unknown; parameters?: unknown };
    if (typeof rule.type !== "string" || !RULE_TYPES.has(rule.type))
      throw validationFailed({
        resource: "Ruleset",
        field: "rules",
        code: "invalid",
        message: `Invalid rule type ${JSON.stringify(rule.type)}`,
      });
    const out: RulesetRule = { type: rule.type };
    if (typeof rule.parameters === "object" && rule.parameters !== null)
      out.parameters = rule.parameters as Record<string, unknown>;
    const queueError = rule.type === "merge_queue" ? mergeQueueParametersError(out.parameters) : null;
    if (queueError !== null)
      throw validationFailed({ resource: "Ruleset", field: "rules", code: "invalid", message: queueError });
    return out;
  });
}

function parseBypass(body: Body): RulesetBypassActor[] {
  return (body.optArray("bypass_actors") ?? []).map((raw) => {
    const b = raw as { actor_id?: unknown; actor_type?: unknown; bypass_mode?: unknown };
    const types = ["Integration", "OrganizationAdmin", "RepositoryRole", "Team", "DeployKey"];
    if (typeof b.actor_type !== "string" || !types.includes(b.actor_type))
      throw validationFailed({ resource: "Ruleset", field: "bypass_actors", code: "invalid" });
    return {
      actor_id: typeof b.actor_id === "number" ? b.actor_id : null,
      actor_type: b.actor_type as RulesetBypassActor["actor_type"],
      bypass_mode: b.bypass_mode === "pull_request" ? "pull_request" : "always",
    };
  });
}

function parseConditions(body: Body): RulesetRecord["conditions"] {
  const conditions = body.optObject("conditions");
  if (conditions === undefined) return null;
  const out: NonNullable<RulesetRecord["conditions"]> = {};
  const refName = conditions.optObject("ref_name");
  if (refName !== undefined)
    out.ref_name = {
      include: refName.optStringArray("include") ?? [],
      exclude: refName.optStringArray("exclude") ?? [],
    };
  const repoName = conditions.optObject("repository_name");
  if (repoName !== undefined)
    out.repository_name = {
      include: repoName.optStringArray("include") ?? [],
      exclude: repoName.optStringArray("exclude") ?? [],
    };
  return out;
}

export function registerProtectionRoutes(router: Router, core: SandboxCore): void {
  const branchOf = (req: ApiRequest) => req.params.branch ?? "";
  const key = (repo: RepoRecord, branch: string) => `${repo.owner}/${repo.name}:${branch}`;
  const requireBranch = async (repo: RepoRecord, branch: string) => {
    if ((await core.gitRepo(repo).refSha(`refs/heads/${branch}`)) === null)
      throw new HttpError(404, "Branch not found");
  };

  router.on("GET", "/repos/{owner}/{repo}/branches/{branch+}/protection", (req) => {
    const repo = core.requireRepo(req, "administer");
    const p = core.state.protections[key(repo, branchOf(req))];
    if (p === undefined) throw notProtected();
    return ok(protectionJson(core, repo, branchOf(req), p));
  });

  router.on("PUT", "/repos/{owner}/{repo}/branches/{branch+}/protection", async (req) => {
    const repo = core.requireRepo(req, "administer");
    const branch = branchOf(req);
    await requireBranch(repo, branch);
    const previous = core.state.protections[key(repo, branch)];
    const p = protectionFromBody(req.body, previous, previous?.id ?? core.nextId(), core.now());
    core.state.protections[key(repo, branch)] = p;
    core.emit(
      "branch_protection_rule",
      { action: previous === undefined ? "created" : "edited", rule: protectionRuleJson(repo, branch, p) },
      { repo, sender: core.actingUser(req.actor) },
    );
    return ok(protectionJson(core, repo, branch, p));
  });

  router.on("DELETE", "/repos/{owner}/{repo}/branches/{branch+}/protection", (req) => {
    const repo = core.requireRepo(req, "administer");
    const branch = branchOf(req);
    const p = core.state.protections[key(repo, branch)];
    if (p === undefined) throw notProtected();
    delete core.state.protections[key(repo, branch)];
    core.emit(
      "branch_protection_rule",
      { action: "deleted", rule: protectionRuleJson(repo, branch, p) },
      { repo, sender: core.actingUser(req.actor) },
    );
    return noContent();
  });

  const signatures = (req: ApiRequest, enabled: boolean | undefined) => {
    const repo = core.requireRepo(req, "administer");
    const branch = branchOf(req);
    const p = core.state.protections[key(repo, branch)];
    if (p === undefined) throw notProtected();
    if (enabled !== undefined && p.required_signatures !== enabled) {
      p.required_signatures = enabled;
      p.updated_at = core.now();
      core.emit(
        "branch_protection_rule",
        { action: "edited", rule: protectionRuleJson(repo, branch, p) },
        { repo, sender: core.actingUser(req.actor) },
      );
    }
    return {
      url: `${core.apiUrl}/repos/${repo.owner}/${repo.name}/branches/${encodeURIComponent(branch)}/protection/required_signatures`,
      enabled: p.required_signatures,
    };
  };
  router.on("GET", "/repos/{owner}/{repo}/branches/{branch+}/protection/required_signatures", (req) =>
    ok(signatures(req, undefined)),
  );
  router.on("POST", "/repos/{owner}/{repo}/branches/{branch+}/protection/required_signatures", (req) =>
    ok(signatures(req, true)),
  );
  router.on("DELETE", "/repos/{owner}/{repo}/branches/{branch+}/protection/required_signatures", (req) => {
    signatures(req, false);
    return noContent();
  });

  // ---- rulesets -----------------------------------------------------------------------------------------

  const rulesetJson = (r: RulesetRecord, req: ApiRequest, full: boolean): Record<string, unknown> => {
    const base =
      r.source_type === "Repository"
        ? `${core.apiUrl}/repos/${r.source}/rulesets/${r.id}`
        : `${core.apiUrl}/orgs/${r.source}/rulesets/${r.id}`;
    const json: Record<string, unknown> = {
      id: r.id,
      name: r.name,
      target: r.target,
      source_type: r.source_type,
      source: r.source,
      enforcement: r.enforcement,
      node_id: nodeId("RepositoryRuleset", r.id),
      _links: { self: { href: base }, html: { href: base.replace(core.apiUrl, core.origin) } },
      created_at: r.created_at,
      updated_at: r.updated_at,
    };
    if (full) {
      json.bypass_actors = r.bypass_actors;
      json.conditions = r.conditions;
      json.rules = r.rules;
      const repo =
        r.source_type === "Repository"
          ? core.repo(r.source.split("/")[0] ?? "", r.source.split("/")[1] ?? "")
          : undefined;
      json.current_user_can_bypass =
        req.actor !== null && repo !== undefined && bypassesRuleset(core, repo, req.actor, r, "push")
          ? "always"
          : "never";
    }
    return json;
  };

  const readRuleset = (
    body: Body,
    source: RulesetRecord["source_type"],
    owner: string,
    existing?: RulesetRecord,
  ): RulesetRecord => {
    const now = core.now();
    const name = existing === undefined ? body.string("name") : (body.optString("name") ?? existing.name);
    const enforcement =
      body.oneOf("enforcement", ["disabled", "active", "evaluate"] as const) ?? existing?.enforcement;
    if (enforcement === undefined) throw invalidRequest(`"enforcement" wasn't supplied.`);
    const ruleset: RulesetRecord = {
      id: existing?.id ?? core.nextId(),
      name,
      target: body.oneOf("target", ["branch", "tag", "push"] as const) ?? existing?.target ?? "branch",
      source_type: source,
      source: owner,
      enforcement,
      conditions: body.has("conditions") ? parseConditions(body) : (existing?.conditions ?? null),
      rules: body.has("rules") ? parseRules(body) : (existing?.rules ?? []),
      bypass_actors: body.has("bypass_actors") ? parseBypass(body) : (existing?.bypass_actors ?? []),
      created_at: existing?.created_at ?? now,
      updated_at: now,
    };
    if (source === "Organization" && ruleset.conditions?.repository_name === undefined)
      throw validationFailed({
        resource: "Ruleset",
        field: "conditions",
        code: "invalid",
        message: "Organization rulesets need a repository_name condition",
      });
    return ruleset;
  };

  const emitRuleset = (action: string, r: RulesetRecord, req: ApiRequest, repo?: RepoRecord) => {
    core.emit(
      "repository_ruleset",
      { action, repository_ruleset: rulesetJson(r, req, true) },
      repo === undefined
        ? { org: r.source, sender: core.actingUser(req.actor) }
        : { repo, sender: core.actingUser(req.actor) },
    );
  };

  const repoRuleset = (req: ApiRequest, repo: RepoRecord): RulesetRecord => {
    const r = core.state.rulesets[String(req.params.ruleset_id)];
    if (r === undefined || r.source_type !== "Repository" || r.source !== `${repo.owner}/${repo.name}`)
      throw notFound();
    return r;
  };

  router.on("GET", "/repos/{owner}/{repo}/rulesets", (req) => {
    const repo = core.requireRepo(req);
    const includeParents = req.query.get("includes_parents") !== "false";
    const list = Object.values(core.state.rulesets).filter(
      (r) =>
        (r.source_type === "Repository" && r.source === `${repo.owner}/${repo.name}`) ||
        (includeParents && r.source_type === "Organization" && rulesetCoversRepo(r, repo)),
    );
    const page = paginate(req, list);
    return { ...page, body: (page.body as RulesetRecord[]).map((r) => rulesetJson(r, req, false)) };
  });

  router.on("POST", "/repos/{owner}/{repo}/rulesets", (req) => {
    const repo = core.requireRepo(req, "administer");
    const r = readRuleset(req.body, "Repository", `${repo.owner}/${repo.name}`);
    core.state.rulesets[String(r.id)] = r;
    emitRuleset("created", r, req, repo);
    return created(rulesetJson(r, req, true));
  });

  router.on("GET", "/repos/{owner}/{repo}/rulesets/{ruleset_id}", (req) => {
    const repo = core.requireRepo(req);
    const r = core.state.rulesets[String(req.params.ruleset_id)];
    if (
      r === undefined ||
      !(
        (r.source_type === "Repository" && r.source === `${repo.owner}/${repo.name}`) ||
        (r.source_type === "Organization" && r.source === repo.owner)
      )
    )
      throw notFound();
    return ok(rulesetJson(r, req, true));
  });

  router.on("PUT", "/repos/{owner}/{repo}/rulesets/{ruleset_id}", (req) => {
    const repo = core.requireRepo(req, "administer");
    const r = readRuleset(req.body, "Repository", `${repo.owner}/${repo.name}`, repoRuleset(req, repo));
    core.state.rulesets[String(r.id)] = r;
    emitRuleset("edited", r, req, repo);
    return ok(rulesetJson(r, req, true));
  });

  router.on("DELETE", "/repos/{owner}/{repo}/rulesets/{ruleset_id}", (req) => {
    const repo = core.requireRepo(req, "administer");
    const r = repoRuleset(req, repo);
    delete core.state.rulesets[String(r.id)];
    emitRuleset("deleted", r, req, repo);
    return noContent();
  });

  const requireOrgAdmin = (req: ApiRequest) => {
    const org = core.org(req.params.org ?? "");
    if (org === undefined) throw notFound();
    const actor = req.actor;
    const allowed =
      (actor?.kind === "user" && (actor.user.site_admin || org.members[actor.user.login] === "admin")) ||
      (actor?.kind === "installation" && actor.installation.account === org.login);
    if (!allowed) throw new HttpError(403, "Must be an owner of the organization");
    return org;
  };

  router.on("GET", "/orgs/{org}/rulesets", (req) => {
    const org = requireOrgAdmin(req);
    const list = Object.values(core.state.rulesets).filter(
      (r) => r.source_type === "Organization" && r.source === org.login,
    );
    const page = paginate(req, list);
    return { ...page, body: (page.body as RulesetRecord[]).map((r) => rulesetJson(r, req, false)) };
  });

  router.on("POST", "/orgs/{org}/rulesets", (req) => {
    const org = requireOrgAdmin(req);
    const r = readRuleset(req.body, "Organization", org.login);
    core.state.rulesets[String(r.id)] = r;
    emitRuleset("created", r, req);
    return created(rulesetJson(r, req, true));
  });

  router.on("GET", "/orgs/{org}/rulesets/{ruleset_id}", (req) => {
    const org = requireOrgAdmin(req);
    const r = core.state.rulesets[String(req.params.ruleset_id)];
    if (r === undefined || r.source_type !== "Organization" || r.source !== org.login) throw notFound();
    return ok(rulesetJson(r, req, true));
  });

  router.on("PUT", "/orgs/{org}/rulesets/{ruleset_id}", (req) => {
    const org = requireOrgAdmin(req);
    const existing = core.state.rulesets[String(req.params.ruleset_id)];
    if (existing === undefined || existing.source_type !== "Organization" || existing.source !== org.login)
      throw notFound();
    const r = readRuleset(req.body, "Organization", org.login, existing);
    core.state.rulesets[String(r.id)] = r;
    emitRuleset("edited", r, req);
    return ok(rulesetJson(r, req, true));
  });

  router.on("DELETE", "/orgs/{org}/rulesets/{ruleset_id}", (req) => {
    const org = requireOrgAdmin(req);
    const r = core.state.rulesets[String(req.params.ruleset_id)];
    if (r === undefined || r.source_type !== "Organization" || r.source !== org.login) throw notFound();
    delete core.state.rulesets[String(r.id)];
    emitRuleset("deleted", r, req);
    return noContent();
  });

  router.on("GET", "/repos/{owner}/{repo}/rules/branches/{branch+}", (req) => {
    const repo = core.requireRepo(req);
    const rules = rulesFor(core, repo, branchOf(req)).map(({ ruleset, ...rule }) => ({
      ...rule,
      ruleset_source_type: ruleset.source_type,
      ruleset_source: ruleset.source,
      ruleset_id: ruleset.id,
    }));
    return paginate(req, rules);
  });
}
