import type { SandboxCore } from "../core.js";
import { nodeId } from "../core.js";
import { HttpError, invalidRequest, notFound, validationFailed } from "../http/errors.js";
import { created, ok, type ApiRequest, type Body } from "../http/request.js";
import { paginate } from "../http/pagination.js";
import type { Router } from "../http/router.js";
import type {
  CheckRunAnnotation,
  CheckRunRecord,
  CheckSuiteRecord,
  RepoRecord,
  StatusRecord,
} from "../state/types.js";
import { appJson } from "./app.js";
import { simpleCommitJson } from "../webhooks/commits.js";
import { repoCommitJson } from "./commits.js";

const CONCLUSIONS = [
  "success",
  "failure",
  "neutral",
  "cancelled",
  "skipped",
  "timed_out",
  "action_required",
  "stale",
] as const;
const STATUSES = ["queued", "in_progress", "completed", "waiting", "requested", "pending"] as const;

/** Check runs are written only by GitHub Apps (installation tokens); PATs get 403 like on GitHub. */
function requireApp(req: ApiRequest): number {
  if (req.actor?.kind !== "installation") throw new HttpError(403, "You must authenticate via a GitHub App.");
  return req.actor.installation.app_id;
}

export function suiteFor(
  core: SandboxCore,
  repo: RepoRecord,
  headSha: string,
  appId: number,
): CheckSuiteRecord {
  const full = `${repo.owner}/${repo.name}`;
  let suite = Object.values(core.state.checkSuites).find(
    (s) => s.repo === full && s.head_sha === headSha && s.app_id === appId,
  );
  if (suite === undefined) {
    const now = core.now();
    suite = {
      id: core.nextId(),
      repo: full,
      head_sha: headSha,
      head_branch: null,
      app_id: appId,
      created_at: now,
      updated_at: now,
    };
    core.state.checkSuites[String(suite.id)] = suite;
  }
  return suite;
}

function pullRequestsFor(core: SandboxCore, repo: RepoRecord, sha: string): Record<string, unknown>[] {
  const full = `${repo.owner}/${repo.name}`;
  const repoRef = { id: repo.id, url: `${core.apiUrl}/repos/${full}`, name: repo.name };
  return Object.values(core.state.pulls)
    .filter(
      (p) =>
        p.repo === full &&
        // GitHub lists only PRs whose head is in this repository: a fork PR's runs name none.
        p.head_repo === undefined &&
        p.head_sha === sha &&
        core.state.issues[`${full}#${p.number}`]?.state === "open",
    )
    .map((p) => ({
      url: `${core.apiUrl}/repos/${full}/pulls/${p.number}`,
      id: p.id,
      number: p.number,
      head: { ref: p.head_ref, sha: p.head_sha, repo: repoRef },
      base: { ref: p.base_ref, sha: "", repo: repoRef },
    }));
}

export function checkRunJson(
  core: SandboxCore,
  repo: RepoRecord,
  run: CheckRunRecord,
): Record<string, unknown> {
  const api = `${core.apiUrl}/repos/${repo.owner}/${repo.name}`;
  return {
    id: run.id,
    head_sha: run.head_sha,
    node_id: nodeId("CheckRun", run.id),
    external_id: run.external_id ?? "",
    url: `${api}/check-runs/${run.id}`,
    html_url: `${core.origin}/${repo.owner}/${repo.name}/runs/${run.id}`,
    // GitHub: "If the integrator does not provide this, then the homepage of the GitHub app is used."
    details_url: run.details_url ?? core.origin,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.started_at,
    completed_at: run.completed_at,
    output: { ...run.output, annotations_url: `${api}/check-runs/${run.id}/annotations` },
    name: run.name,
    check_suite: { id: run.check_suite_id },
    app: appJson(core),
    pull_requests: pullRequestsFor(core, repo, run.head_sha),
  };
}

export async function suiteJson(
  core: SandboxCore,
  repo: RepoRecord,
  suite: CheckSuiteRecord,
): Promise<Record<string, unknown>> {
  const runs = Object.values(core.state.checkRuns).filter((r) => r.check_suite_id === suite.id);
  const completed = runs.every((r) => r.status === "completed");
  const rank = [
    "action_required",
    "cancelled",
    "timed_out",
    "failure",
    "neutral",
    "skipped",
    "stale",
    "success",
  ];
  const conclusion =
    !completed || runs.length === 0
      ? null
      : (runs.map((r) => r.conclusion ?? "neutral").sort((a, b) => rank.indexOf(a) - rank.indexOf(b))[0] ??
        null);
  return {
    id: suite.id,
    node_id: nodeId("CheckSuite", suite.id),
    head_branch: suite.head_branch,
    head_sha: suite.head_sha,
    head_commit: await simpleCommitJson(core, repo, suite.head_sha),
    status: runs.length === 0 ? "queued" : completed ? "completed" : "in_progress",
    conclusion,
    url: `${core.apiUrl}/repos/${repo.owner}/${repo.name}/check-suites/${suite.id}`,
    before: null,
    after: suite.head_sha,
    pull_requests: pullRequestsFor(core, repo, suite.head_sha),
    app: appJson(core),
    repository: core.repoJson(repo),
    created_at: suite.created_at,
    updated_at: suite.updated_at,
    latest_check_runs_count: runs.length,
    check_runs_url: `${core.apiUrl}/repos/${repo.owner}/${repo.name}/check-suites/${suite.id}/check-runs`,
  };
}

function applyRunFields(core: SandboxCore, run: CheckRunRecord, body: Body): void {
  const name = body.optString("name");
  if (name !== undefined) run.name = name;
  const details = body.nullableString("details_url");
  if (details !== undefined) run.details_url = details;
  const external = body.nullableString("external_id");
  if (external !== undefined) run.external_id = external;
  const startedAt = body.optString("started_at");
  if (startedAt !== undefined) run.started_at = startedAt;
  const status = body.oneOf("status", STATUSES);
  const conclusion = body.oneOf("conclusion", CONCLUSIONS);
  if (status !== undefined) run.status = status;
  if (conclusion !== undefined) {
    run.conclusion = conclusion;
    run.status = "completed";
  }
  if (run.status === "completed") {
    if (run.conclusion === null) throw invalidRequest(`"conclusion" wasn't supplied.`);
    run.completed_at = body.optString("completed_at") ?? run.completed_at ?? core.now();
  }
  const output = body.optObject("output");
  if (output !== undefined) {
    const title = output.optString("title");
    const summary = output.optString("summary");
    if (title === undefined || summary === undefined)
      throw invalidRequest(`"output" needs "title" and "summary".`);
    const text = output.optString("text");
    checkOutputLimit("summary", summary);
    if (text !== undefined) checkOutputLimit("text", text);
    const annotations = output.optArray("annotations") ?? [];
    if (annotations.length > 50)
      throw invalidRequest("For 'properties/annotations', at most 50 annotations per request.");
    run.output = {
      title,
      summary,
      text: text ?? run.output.text,
      annotations_count: run.output.annotations_count + annotations.length,
    };
    // GitHub appends each request's annotations to the run's (it never replaces them).
    run.annotations = [...(run.annotations ?? []), ...annotations.map(annotationFrom)];
  }
}

/** One `output.annotations[]` entry, with GitHub's required fields checked. */
function annotationFrom(value: unknown): CheckRunAnnotation {
  const a = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  const { path, start_line: start, end_line: end, annotation_level: level, message } = a;
  if (
    typeof path !== "string" ||
    typeof start !== "number" ||
    typeof end !== "number" ||
    typeof message !== "string" ||
    (level !== "notice" && level !== "warning" && level !== "failure")
  )
    throw invalidRequest(
      "Each annotation needs path, start_line, end_line, annotation_level (notice, warning, failure) and message.",
    );
  return {
    path,
    start_line: start,
    end_line: end,
    annotation_level: level,
    title: typeof a["title"] === "string" ? a["title"] : null,
    message,
    raw_details: typeof a["raw_details"] === "string" ? a["raw_details"] : null,
  };
}

/** GitHub's limit on a check run's `output.summary` and `output.text`. */
const OUTPUT_LIMIT = 65535;

/**
 * GitHub checks the limit twice: the request schema counts characters ("Only 65535 characters are
 * allowed; N were supplied."), the model counts UTF-8 bytes (a 422 "Validation Failed" naming the
 * field): 65,535 characters of non-ASCII text are refused. Evidence: sandbox/DEVIATIONS.md.
 */
function checkOutputLimit(field: "summary" | "text", value: string): void {
  const chars = [...value].length;
  if (chars > OUTPUT_LIMIT)
    throw invalidRequest(`Only ${OUTPUT_LIMIT} characters are allowed; ${chars} were supplied.`);
  if (Buffer.byteLength(value, "utf8") > OUTPUT_LIMIT)
    throw validationFailed({
      resource: "CheckRun",
      code: "custom",
      field,
      message: `${field} exceeds a maximum bytesize of ${OUTPUT_LIMIT}`,
    });
}

export function registerCheckRoutes(router: Router, core: SandboxCore): void {
  const findRun = (req: ApiRequest, repo: RepoRecord): CheckRunRecord => {
    const run = core.state.checkRuns[String(req.params.check_run_id)];
    if (run === undefined || run.repo !== `${repo.owner}/${repo.name}`) throw notFound();
    return run;
  };

  router.on("POST", "/repos/{owner}/{repo}/check-runs", async (req) => {
    const repo = core.requireRepo(req, "write");
    const appId = requireApp(req);
    const headSha = req.body.string("head_sha");
    if ((await core.gitRepo(repo).objectType(headSha)) !== "commit")
      throw validationFailed({
        resource: "CheckRun",
        field: "head_sha",
        code: "invalid",
        message: "No commit found for SHA: " + headSha,
      });
    const suite = suiteFor(core, repo, headSha, appId);
    const run: CheckRunRecord = {
      id: core.nextId(),
      repo: `${repo.owner}/${repo.name}`,
      head_sha: headSha,
      name: req.body.string("name"),
      status: "queued",
      conclusion: null,
      started_at: core.now(),
      completed_at: null,
      output: { title: null, summary: null, text: null, annotations_count: 0 },
      details_url: null,
      external_id: null,
      app_id: appId,
      check_suite_id: suite.id,
    };
    applyRunFields(core, run, req.body);
    core.state.checkRuns[String(run.id)] = run;
    suite.updated_at = core.now();
    const sender = core.actingUser(req.actor);
    core.emit("check_run", { action: "created", check_run: checkRunJson(core, repo, run) }, { repo, sender });
    if (run.status === "completed") {
      core.emit(
        "check_run",
        { action: "completed", check_run: checkRunJson(core, repo, run) },
        { repo, sender },
      );
      core.wakeQueue(repo);
    }
    return created(checkRunJson(core, repo, run));
  });

  router.on("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}", (req) => {
    const repo = core.requireRepo(req, "write");
    const appId = requireApp(req);
    const run = findRun(req, repo);
    if (run.app_id !== appId)
      throw new HttpError(
        403,
        `Invalid app_id \`${appId}\` - check run can only be modified by the GitHub App that created it.`,
      );
    const wasCompleted = run.status === "completed";
    applyRunFields(core, run, req.body);
    if (!wasCompleted && run.status === "completed") {
      core.emit(
        "check_run",
        { action: "completed", check_run: checkRunJson(core, repo, run) },
        { repo, sender: core.actingUser(req.actor) },
      );
      core.wakeQueue(repo);
    }
    return ok(checkRunJson(core, repo, run));
  });

  router.on("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}", (req) => {
    const repo = core.requireRepo(req);
    return ok(checkRunJson(core, repo, findRun(req, repo)));
  });

  router.on("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations", (req) => {
    const repo = core.requireRepo(req);
    const run = findRun(req, repo);
    const api = `${core.apiUrl}/repos/${repo.owner}/${repo.name}`;
    const page = paginate(req, run.annotations ?? []);
    return {
      ...page,
      body: (page.body as CheckRunAnnotation[]).map((a) => ({
        ...a,
        start_column: null,
        end_column: null,
        blob_href: `${core.origin}/${repo.owner}/${repo.name}/blob/${run.head_sha}/${a.path}`,
        check_run_url: `${api}/check-runs/${run.id}`,
      })),
    };
  });

  router.on("POST", "/repos/{owner}/{repo}/check-runs/{check_run_id}/rerequest", (req) => {
    const repo = core.requireRepo(req, "write");
    const run = findRun(req, repo);
    core.emit(
      "check_run",
      { action: "rerequested", check_run: checkRunJson(core, repo, run) },
      { repo, sender: core.actingUser(req.actor) },
    );
    return created({});
  });

  router.on("GET", "/repos/{owner}/{repo}/commits/{ref+}/check-runs", async (req) => {
    const repo = core.requireRepo(req);
    const sha = await core.gitRepo(repo).resolveCommit(req.params.ref ?? "");
    if (sha === null) throw new HttpError(422, `No commit found for SHA: ${req.params.ref ?? ""}`);
    const name = req.query.get("check_name");
    const status = req.query.get("status");
    const appId = req.query.get("app_id");
    const latestOnly = (req.query.get("filter") ?? "latest") === "latest";
    let runs = Object.values(core.state.checkRuns)
      .filter((r) => r.repo === `${repo.owner}/${repo.name}` && r.head_sha === sha)
      .filter((r) => name === null || r.name === name)
      .filter((r) => status === null || r.status === status)
      .filter((r) => appId === null || String(r.app_id) === appId)
      .sort((a, b) => b.id - a.id);
    if (latestOnly) {
      const seen = new Set<string>();
      runs = runs.filter((r) => {
        const key = `${r.app_id}:${r.name}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
    }
    const page = paginate(req, runs);
    return {
      ...page,
      body: {
        total_count: runs.length,
        check_runs: (page.body as CheckRunRecord[]).map((r) => checkRunJson(core, repo, r)),
      },
    };
  });

  router.on("GET", "/repos/{owner}/{repo}/commits/{ref+}/check-suites", async (req) => {
    const repo = core.requireRepo(req);
    const sha = await core.gitRepo(repo).resolveCommit(req.params.ref ?? "");
    if (sha === null) throw new HttpError(422, `No commit found for SHA: ${req.params.ref ?? ""}`);
    const suites = Object.values(core.state.checkSuites).filter(
      (s) => s.repo === `${repo.owner}/${repo.name}` && s.head_sha === sha,
    );
    const page = paginate(req, suites);
    return {
      ...page,
      body: {
        total_count: suites.length,
        check_suites: await Promise.all(
          (page.body as CheckSuiteRecord[]).map((s) => suiteJson(core, repo, s)),
        ),
      },
    };
  });

  router.on("POST", "/repos/{owner}/{repo}/check-suites/{check_suite_id}/rerequest", async (req) => {
    const repo = core.requireRepo(req, "write");
    const suite = core.state.checkSuites[String(req.params.check_suite_id)];
    if (suite === undefined || suite.repo !== `${repo.owner}/${repo.name}`) throw notFound();
    core.emit(
      "check_suite",
      {
        action: "rerequested",
        check_suite: await suiteJson(core, repo, suite),
      },
      { repo, sender: core.actingUser(req.actor) },
    );
    return created({});
  });

  router.on("GET", "/repos/{owner}/{repo}/check-suites/{check_suite_id}", async (req) => {
    const repo = core.requireRepo(req);
    const suite = core.state.checkSuites[String(req.params.check_suite_id)];
    if (suite === undefined || suite.repo !== `${repo.owner}/${repo.name}`) throw notFound();
    return ok(await suiteJson(core, repo, suite));
  });

  // ---- commit statuses ---------------------------------------------------------------------------------

  const statusJson = (repo: RepoRecord, s: StatusRecord) => ({
    url: `${core.apiUrl}/repos/${repo.owner}/${repo.name}/statuses/${s.sha}`,
    avatar_url: null,
    id: s.id,
    node_id: nodeId("StatusContext", s.id),
    state: s.state,
    description: s.description,
    target_url: s.target_url,
    context: s.context,
    created_at: s.created_at,
    updated_at: s.updated_at,
    creator: core.userJson(s.creator),
  });

  router.on("POST", "/repos/{owner}/{repo}/statuses/{sha}", async (req) => {
    const repo = core.requireRepo(req, "write");
    const sha = req.params.sha ?? "";
    if ((await core.gitRepo(repo).objectType(sha)) !== "commit")
      throw validationFailed({
        resource: "Status",
        field: "sha",
        code: "invalid",
        message: `No commit found for SHA: ${sha}`,
      });
    const state = req.body.oneOf("state", ["error", "failure", "pending", "success"] as const);
    if (state === undefined) throw invalidRequest(`"state" wasn't supplied.`);
    const creator = core.actingUser(req.actor);
    const now = core.now();
    const status: StatusRecord = {
      id: core.nextId(),
      repo: `${repo.owner}/${repo.name}`,
      sha,
      state,
      context: req.body.optString("context") ?? "default",
      description: req.body.optString("description") ?? null,
      target_url: req.body.optString("target_url") ?? null,
      creator: creator.login,
      created_at: now,
      updated_at: now,
    };
    core.state.statuses[String(status.id)] = status;
    core.emit(
      "status",
      {
        id: status.id,
        sha,
        name: `${repo.owner}/${repo.name}`,
        commit: await repoCommitJson(core, repo, sha, false),
        target_url: status.target_url,
        context: status.context,
        description: status.description,
        state,
        branches: [],
        created_at: now,
        updated_at: now,
      },
      { repo, sender: creator },
    );
    core.wakeQueue(repo);
    return created(statusJson(repo, status));
  });

  router.on("GET", "/repos/{owner}/{repo}/commits/{ref+}/statuses", async (req) => {
    const repo = core.requireRepo(req);
    const sha = await core.gitRepo(repo).resolveCommit(req.params.ref ?? "");
    if (sha === null) throw notFound();
    const list = Object.values(core.state.statuses)
      .filter((s) => s.repo === `${repo.owner}/${repo.name}` && s.sha === sha)
      .sort((a, b) => b.id - a.id);
    const page = paginate(req, list);
    return { ...page, body: (page.body as StatusRecord[]).map((s) => statusJson(repo, s)) };
  });

  router.on("GET", "/repos/{owner}/{repo}/commits/{ref+}/status", async (req) => {
    const repo = core.requireRepo(req);
    const sha = await core.gitRepo(repo).resolveCommit(req.params.ref ?? "");
    if (sha === null) throw notFound();
    const latest = new Map<string, StatusRecord>();
    for (const s of Object.values(core.state.statuses)
      .filter((x) => x.repo === `${repo.owner}/${repo.name}` && x.sha === sha)
      .sort((a, b) => a.id - b.id))
      latest.set(s.context, s);
    const statuses = [...latest.values()];
    const state = statuses.some((s) => s.state === "error" || s.state === "failure")
      ? "failure"
      : statuses.length === 0 || statuses.some((s) => s.state === "pending")
        ? "pending"
        : "success";
    return ok({
      state,
      statuses: statuses.map((s) => statusJson(repo, s)),
      sha,
      total_count: statuses.length,
      repository: core.repoJson(repo),
      commit_url: `${core.apiUrl}/repos/${repo.owner}/${repo.name}/commits/${sha}`,
      url: `${core.apiUrl}/repos/${repo.owner}/${repo.name}/commits/${sha}/status`,
    });
  });
}
