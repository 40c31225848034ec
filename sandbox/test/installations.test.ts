/**
 * App installations on selected repositories: what an installation token can see and do, the
 * user and app endpoints that change an installation (add/remove a repository, suspend, delete),
 * narrowed installation tokens, and the `installation` / `installation_repositories` webhooks,
 * each validated against GitHub's published schema with zero errors.
 */
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Octokit } from "@octokit/rest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox } from "../src/index.js";
import { Ajv } from "ajv";
import { addFormats, errorsOf, webhookErrors, webhookSchemas } from "../src/testing/webhook-schemas.js";
import {
  settle,
  startTestSandbox,
  type ReceivedWebhook,
  type TestSandbox,
  type TestUser,
} from "../src/testing/harness.js";

/** GitHub's schema errors of a delivery (empty = conforms; a missing schema is an error too). */
const schemaErrors = (hook: ReceivedWebhook): string[] => webhookErrors(hook);

// Compiling every schema takes seconds: done up front, not mid-test (where it would outlast the
// sandbox's keep-alive and reset the client's pooled connection).
beforeAll(() => {
  webhookSchemas();
}, 60_000);

const restAjv = new Ajv({ strict: false, allErrors: true });
addFormats(restAjv);

/**
 * ajv's errors for a REST response against GitHub's schema for the operation
 * (sandbox/test/fixtures/openapi-rest, file named after method, path and status).
 */
function restErrors(file: string, data: unknown): string[] {
  let validate = restAjv.getSchema(`${file}.json`);
  if (validate === undefined) {
    const path = join(import.meta.dirname, "fixtures", "openapi-rest", `${file}.json`);
    validate = restAjv.compile(JSON.parse(readFileSync(path, "utf8")) as object);
  }
  return errorsOf(validate, data);
}

type Repo = { id: number; name: string; full_name: string; private: boolean; node_id: string };

describe("sandbox: installations on selected repositories", () => {
  let t: TestSandbox;
  let olivia: TestUser; // owner of beta and gamma
  let dave: TestUser; // member of beta, no admin
  let stranger: TestUser; // member of nothing
  let installationId: number;
  const repos: Record<string, Repo> = {};

  /** Webhooks received after `mark` (an index into t.webhooks), once the sandbox is idle. */
  async function since(mark: number): Promise<ReceivedWebhook[]> {
    await t.idle();
    return t.webhooks.slice(mark);
  }
  const jwt = () => t.octokit(t.appJwt());
  async function token(id: number, body: Record<string, unknown> = {}) {
    return settle(
      jwt().request("POST /app/installations/{installation_id}/access_tokens", {
        installation_id: id,
        ...body,
      }),
    );
  }
  async function tokenOctokit(id: number, body: Record<string, unknown> = {}): Promise<[Octokit, string]> {
    const r = await token(id, body);
    expect(r.status).toBe(201);
    const value = (r.data as { token: string }).token;
    return [t.octokit(value), value];
  }
  const getRepo = (o: Octokit, name: string, owner = "beta") =>
    settle(o.request("GET /repos/{owner}/{repo}", { owner, repo: name }));

  beforeAll(async () => {
    t = await startTestSandbox();
    olivia = await t.createUser("olivia");
    dave = await t.createUser("dave");
    stranger = await t.createUser("stranger");
    await t.createOrgWithoutApp("beta", olivia.login);
    await olivia.octokit.request("PUT /orgs/{org}/memberships/{username}", {
      org: "beta",
      username: dave.login,
      role: "member",
    });
    for (const [name, isPrivate] of [
      ["a", true],
      ["b", true],
      ["c", false],
    ] as const) {
      await t.createRepo("beta", name, { private: isPrivate });
      const { data } = await t.admin.request("GET /repos/{owner}/{repo}", { owner: "beta", repo: name });
      repos[name] = data as unknown as Repo;
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  it("an org created without the app gets no installation and sends the app nothing about it", async () => {
    expect(Object.values(t.sandbox.state.installations).some((i) => i.account === "beta")).toBe(false);
    await t.idle();
    expect(
      t.webhooks.some((h) => (h.payload.organization as { login?: string } | undefined)?.login === "beta"),
    ).toBe(false);
  });

  it("installing on selected repositories sends installation.created naming them, with GitHub's schema", async () => {
    const mark = t.webhooks.length;
    installationId = await t.installApp("beta", ["a"]);
    const hooks = await since(mark);
    expect(hooks.map((h) => `${h.event}.${h.action}`)).toEqual(["installation.created"]);
    const hook = hooks[0]!;
    expect(schemaErrors(hook)).toEqual([]);
    expect(hook.signatureValid).toBe(true);
    expect((hook.payload.installation as { repository_selection: string }).repository_selection).toBe(
      "selected",
    );
    expect(hook.payload.repositories).toEqual([
      { id: repos.a!.id, node_id: repos.a!.node_id, name: "a", full_name: "beta/a", private: true },
    ]);
    const { data } = await jwt().request("GET /app/installations/{installation_id}", {
      installation_id: installationId,
    });
    expect(data.repository_selection).toBe("selected");
  });

  it("the sandbox install refuses a second install, unknown orgs and unknown repositories (422)", async () => {
    const post = (body: Record<string, unknown>) =>
      settle(t.admin.request("POST /sandbox/installations", body));
    expect((await post({ account: "beta", repository_selection: "all" })).status).toBe(422);
    expect((await post({ account: "nope", repository_selection: "all" })).status).toBe(422);
    await t.createOrgWithoutApp("delta", olivia.login);
    expect(
      (await post({ account: "delta", repository_selection: "selected", repositories: ["ghost"] })).status,
    ).toBe(422);
    expect(
      (await post({ account: "delta", repository_selection: "selected", repositories: [] })).status,
    ).toBe(422);
    expect(
      (await settle(olivia.octokit.request("POST /sandbox/installations", { account: "delta" }))).status,
    ).toBe(403);
  });

  it("an installation token sees only the installation's repositories (private others: 404)", async () => {
    const [app] = await tokenOctokit(installationId);
    expect((await getRepo(app, "a")).status).toBe(200);
    const b = await getRepo(app, "b");
    expect(b.status).toBe(404);
    expect((b.data as { message: string }).message).toBe("Not Found");
    // Public repositories stay readable by any token (as on GitHub), but not writable.
    expect((await getRepo(app, "c")).status).toBe(200);
    const write = await settle(
      app.request("POST /repos/{owner}/{repo}/issues", { owner: "beta", repo: "c", title: "not mine" }),
    );
    expect(write.status).toBe(403);
    const protect = await settle(
      app.request("GET /repos/{owner}/{repo}/branches/{branch}/protection", {
        owner: "beta",
        repo: "b",
        branch: "main",
      }),
    );
    expect(protect.status).toBe(404);
    const listed = await app.request("GET /installation/repositories");
    expect(listed.data.total_count).toBe(1);
    expect(listed.data.repository_selection).toBe("selected");
    expect(listed.data.repositories.map((r) => r.full_name)).toEqual(["beta/a"]);
    expect(restErrors("get__installation__repositories.200", listed.data)).toEqual([]);
    // GET /repos/{o}/{r}/installation answers only for covered repositories.
    expect(
      (await settle(jwt().request("GET /repos/{owner}/{repo}/installation", { owner: "beta", repo: "a" })))
        .status,
    ).toBe(200);
    expect(
      (await settle(jwt().request("GET /repos/{owner}/{repo}/installation", { owner: "beta", repo: "b" })))
        .status,
    ).toBe(404);
  });

  it("git smart HTTP follows the selection: clone of a covered repository works, of another is refused", async () => {
    const [, value] = await tokenOctokit(installationId);
    const dir = await t.clone("beta", "a", value);
    expect(dir).toBeTruthy();
    const refused = await t.git(t.root, [
      "clone",
      "--quiet",
      t.remoteUrl("beta", "b", value),
      join(t.root, "nope-b"),
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/not found|404/i);
  });

  it("webhooks about uncovered repositories are not sent; covered ones and org-level events are", async () => {
    const mark = t.webhooks.length;
    for (const name of ["a", "b"]) {
      const dir = await t.clone("beta", name, olivia.token);
      await t.commit(dir, { "x.txt": `${name}\n` }, `touch ${name}`);
      const pushed = await t.push(dir, "HEAD:main");
      expect(pushed.code).toBe(0);
    }
    // A repository created in a "selected" org is not added to the installation.
    await t.createRepo("beta", "e", { private: true });
    // An org ruleset is about the org, not one repository: the app hears of it.
    await olivia.octokit.request("POST /orgs/{org}/rulesets", {
      org: "beta",
      name: "org-rule",
      target: "branch",
      enforcement: "evaluate",
      conditions: {
        ref_name: { include: ["~DEFAULT_BRANCH"], exclude: [] },
        repository_name: { include: ["~ALL"], exclude: [] },
      },
      rules: [{ type: "deletion" }],
    });
    const hooks = await since(mark);
    const about = (h: ReceivedWebhook) =>
      (h.payload.repository as { full_name?: string } | undefined)?.full_name;
    expect(hooks.filter((h) => h.event === "push").map(about)).toEqual(["beta/a"]);
    expect(hooks.some((h) => about(h) === "beta/b" || about(h) === "beta/e")).toBe(false);
    expect(hooks.some((h) => h.event === "repository_ruleset" && h.action === "created")).toBe(true);
    const e = Object.values(t.sandbox.state.installations).find((i) => i.id === installationId);
    expect(e?.repository_ids).toEqual([repos.a!.id]);
  });

  it("PUT /user/installations/{id}/repositories/{repo}: an org owner adds one; installation_repositories.added", async () => {
    const path = "PUT /user/installations/{installation_id}/repositories/{repository_id}";
    // A member without admin on the repository, a non-member, an installation token: refused.
    expect(
      (
        await settle(
          dave.octokit.request(path, { installation_id: installationId, repository_id: repos.b!.id }),
        )
      ).status,
    ).toBe(403);
    expect(
      (
        await settle(
          stranger.octokit.request(path, { installation_id: installationId, repository_id: repos.b!.id }),
        )
      ).status,
    ).toBe(404);
    const [app] = await tokenOctokit(installationId);
    expect(
      (await settle(app.request(path, { installation_id: installationId, repository_id: repos.b!.id })))
        .status,
    ).toBe(403);
    expect(
      (
        await settle(
          olivia.octokit.request(path, { installation_id: installationId, repository_id: 999_999 }),
        )
      ).status,
    ).toBe(404);
    expect(
      (await settle(olivia.octokit.request(path, { installation_id: 999_999, repository_id: repos.b!.id })))
        .status,
    ).toBe(404);

    const mark = t.webhooks.length;
    const added = await settle(
      olivia.octokit.request(path, { installation_id: installationId, repository_id: repos.b!.id }),
    );
    expect(added.status).toBe(204);
    // Adding again changes nothing and sends nothing.
    expect(
      (
        await settle(
          olivia.octokit.request(path, { installation_id: installationId, repository_id: repos.b!.id }),
        )
      ).status,
    ).toBe(204);
    const hooks = await since(mark);
    expect(hooks.map((h) => `${h.event}.${h.action}`)).toEqual(["installation_repositories.added"]);
    const hook = hooks[0]!;
    expect(schemaErrors(hook)).toEqual([]);
    expect(hook.payload.repository_selection).toBe("selected");
    expect(hook.payload.repositories_added).toEqual([
      { id: repos.b!.id, node_id: repos.b!.node_id, name: "b", full_name: "beta/b", private: true },
    ]);
    expect(hook.payload.repositories_removed).toEqual([]);
    expect((hook.payload.sender as { login: string }).login).toBe("olivia");
    // The same token now reaches b.
    expect((await getRepo(app, "b")).status).toBe(200);
  });

  it("GET /user/installations and /user/installations/{id}/repositories list what the user can see", async () => {
    const mine = await olivia.octokit.request("GET /user/installations");
    expect(mine.data.installations.map((i) => i.id)).toContain(installationId);
    expect(mine.data.total_count).toBe(mine.data.installations.length);
    const theirs = await stranger.octokit.request("GET /user/installations");
    expect(theirs.data.installations.map((i) => i.id)).not.toContain(installationId);
    const listed = await olivia.octokit.request("GET /user/installations/{installation_id}/repositories", {
      installation_id: installationId,
    });
    expect(listed.data.repository_selection).toBe("selected");
    expect(listed.data.repositories.map((r) => r.name)).toEqual(["a", "b"]);
    expect(listed.data.repositories[0]?.permissions?.admin).toBe(true);
    expect(
      (
        await settle(
          stranger.octokit.request("GET /user/installations/{installation_id}/repositories", {
            installation_id: installationId,
          }),
        )
      ).status,
    ).toBe(404);
  });

  it("DELETE /user/installations/{id}/repositories/{repo}: removed event; never the last one (422)", async () => {
    const path = "DELETE /user/installations/{installation_id}/repositories/{repository_id}";
    expect(
      (
        await settle(
          dave.octokit.request(path, { installation_id: installationId, repository_id: repos.b!.id }),
        )
      ).status,
    ).toBe(403);
    const mark = t.webhooks.length;
    expect(
      (
        await settle(
          olivia.octokit.request(path, { installation_id: installationId, repository_id: repos.b!.id }),
        )
      ).status,
    ).toBe(204);
    const hooks = await since(mark);
    expect(hooks.map((h) => `${h.event}.${h.action}`)).toEqual(["installation_repositories.removed"]);
    expect(schemaErrors(hooks[0]!)).toEqual([]);
    expect(hooks[0]!.payload.repositories_removed).toEqual([
      { id: repos.b!.id, node_id: repos.b!.node_id, name: "b", full_name: "beta/b", private: true },
    ]);
    expect(hooks[0]!.payload.repositories_added).toEqual([]);
    const last = await settle(
      olivia.octokit.request(path, { installation_id: installationId, repository_id: repos.a!.id }),
    );
    expect(last.status).toBe(422);
    const [app] = await tokenOctokit(installationId);
    expect((await getRepo(app, "b")).status).toBe(404);
  });

  it("PATCH /sandbox/installations switches the selection and sends the difference", async () => {
    const patch = (body: Record<string, unknown>) =>
      t.admin.request("PATCH /sandbox/installations/{installation_id}", {
        installation_id: installationId,
        ...body,
      });
    let mark = t.webhooks.length;
    await patch({ repository_selection: "all" });
    let hooks = await since(mark);
    expect(hooks.map((h) => `${h.event}.${h.action}`)).toEqual(["installation_repositories.added"]);
    expect(schemaErrors(hooks[0]!)).toEqual([]);
    expect(hooks[0]!.payload.repository_selection).toBe("all");
    expect((hooks[0]!.payload.repositories_added as Repo[]).map((r) => r.name)).toEqual(["b", "c", "e"]);
    // DELETE on an "all" installation: GitHub's 422.
    const all = await settle(
      olivia.octokit.request("DELETE /user/installations/{installation_id}/repositories/{repository_id}", {
        installation_id: installationId,
        repository_id: repos.b!.id,
      }),
    );
    expect(all.status).toBe(422);

    mark = t.webhooks.length;
    await patch({ repository_selection: "selected", repositories: ["a", "c"] });
    hooks = await since(mark);
    expect(hooks.map((h) => `${h.event}.${h.action}`)).toEqual(["installation_repositories.removed"]);
    expect(schemaErrors(hooks[0]!)).toEqual([]);
    expect((hooks[0]!.payload.repositories_removed as Repo[]).map((r) => r.name)).toEqual(["b", "e"]);
    expect(hooks[0]!.payload.repository_selection).toBe("selected");
  });
});

describe("sandbox: narrowed installation tokens", () => {
  let t: TestSandbox;
  let installationId: number;
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    t = await startTestSandbox();
    const olivia = await t.createUser("olivia");
    ({ installationId } = await t.createOrg("gamma", olivia.login));
    for (const name of ["x", "y"]) {
      await t.createRepo("gamma", name, { private: true });
      const { data } = await t.admin.request("GET /repos/{owner}/{repo}", { owner: "gamma", repo: name });
      ids[name] = (data as { id: number }).id;
    }
    await t.createOrgWithoutApp("other", olivia.login);
    await t.createRepo("other", "z", { private: true });
  });
  afterAll(async () => {
    await t?.close();
  });

  const mint = (body: Record<string, unknown>) =>
    settle(
      t.octokit(t.appJwt()).request("POST /app/installations/{installation_id}/access_tokens", {
        installation_id: installationId,
        ...body,
      }),
    );

  it("an un-narrowed token of an 'all' installation reports every permission and no repository list", async () => {
    const r = await mint({});
    const data = r.data as Record<string, unknown>;
    expect(r.status).toBe(201);
    expect(data.repository_selection).toBe("all");
    expect(data.repositories).toBeUndefined();
    expect((data.permissions as Record<string, string>).contents).toBe("write");
  });

  it("a token scoped to repository x cannot read repository y (API and git)", async () => {
    const r = await mint({ repositories: ["x"] });
    expect(r.status).toBe(201);
    const data = r.data as {
      token: string;
      repository_selection: string;
      repositories: { full_name: string }[];
    };
    expect(data.repository_selection).toBe("selected");
    expect(data.repositories.map((repo) => repo.full_name)).toEqual(["gamma/x"]);
    expect(restErrors("post__app__installations__{installation_id}__access_tokens.201", data)).toEqual([]);
    const scoped = t.octokit(data.token);
    expect(
      (await settle(scoped.request("GET /repos/{owner}/{repo}", { owner: "gamma", repo: "x" }))).status,
    ).toBe(200);
    expect(
      (await settle(scoped.request("GET /repos/{owner}/{repo}", { owner: "gamma", repo: "y" }))).status,
    ).toBe(404);
    const listed = await scoped.request("GET /installation/repositories");
    expect(listed.data.repositories.map((repo) => repo.name)).toEqual(["x"]);
    expect(listed.data.repository_selection).toBe("selected");
    const refused = await t.git(t.root, [
      "clone",
      "--quiet",
      t.remoteUrl("gamma", "y", data.token),
      join(t.root, "y-scoped"),
    ]);
    expect(refused.code).not.toBe(0);
    expect(await t.clone("gamma", "x", data.token)).toBeTruthy();
    // By id too.
    const byId = await mint({ repository_ids: [ids.y] });
    expect((byId.data as { repositories: { name: string }[] }).repositories.map((repo) => repo.name)).toEqual(
      ["y"],
    );
  });

  it("a contents: read token can read and clone but not push, and cannot do what it was not given", async () => {
    const r = await mint({ permissions: { contents: "read" } });
    expect(r.status).toBe(201);
    const data = r.data as { token: string; permissions: Record<string, string> };
    expect(data.permissions).toEqual({ contents: "read", metadata: "read" });
    expect(restErrors("post__app__installations__{installation_id}__access_tokens.201", data)).toEqual([]);
    const reader = t.octokit(data.token);
    const content = await settle(
      reader.request("GET /repos/{owner}/{repo}/contents/{path}", {
        owner: "gamma",
        repo: "x",
        path: "README.md",
      }),
    );
    expect(content.status).toBe(200);
    const dir = await t.clone("gamma", "x", data.token);
    await t.commit(dir, { "new.txt": "no\n" }, "should not land");
    const pushed = await t.push(dir, "HEAD:main");
    expect(pushed.code).not.toBe(0);
    expect(pushed.stderr).toMatch(/403|denied/i);
    const ref = await settle(
      reader.request("POST /repos/{owner}/{repo}/git/refs", {
        owner: "gamma",
        repo: "x",
        ref: "refs/heads/sneaky",
        sha: "0".repeat(40),
      }),
    );
    expect(ref.status).toBe(403);
    expect((ref.data as { message: string }).message).toBe("Resource not accessible by integration");
    const issue = await settle(
      reader.request("POST /repos/{owner}/{repo}/issues", { owner: "gamma", repo: "x", title: "no" }),
    );
    expect(issue.status).toBe(403);
    const protection = await settle(
      reader.request("PUT /repos/{owner}/{repo}/branches/{branch}/protection", {
        owner: "gamma",
        repo: "x",
        branch: "main",
        required_status_checks: null,
        enforce_admins: false,
        required_pull_request_reviews: null,
        restrictions: null,
      }),
    );
    expect(protection.status).toBe(403);
  });

  it("a checks: write token may create check runs but not read contents", async () => {
    const r = await mint({ permissions: { checks: "write" } });
    const scoped = t.octokit((r.data as { token: string }).token);
    const { data: branch } = await t.admin.request("GET /repos/{owner}/{repo}/branches/{branch}", {
      owner: "gamma",
      repo: "x",
      branch: "main",
    });
    const run = await settle(
      scoped.request("POST /repos/{owner}/{repo}/check-runs", {
        owner: "gamma",
        repo: "x",
        name: "c",
        head_sha: branch.commit.sha,
      }),
    );
    expect(run.status).toBe(201);
    const content = await settle(
      scoped.request("GET /repos/{owner}/{repo}/contents/{path}", {
        owner: "gamma",
        repo: "x",
        path: "README.md",
      }),
    );
    expect(content.status).toBe(403);
  });

  it("asking for a repository or a permission the installation lacks: GitHub's 422s", async () => {
    const notInstalled = await mint({ repositories: ["z"] });
    expect(notInstalled.status).toBe(422);
    expect((notInstalled.data as { message: string }).message).toBe(
      "There is at least one repository that does not exist or is not accessible to the parent installation.",
    );
    const otherOrgId = (await t.admin.request("GET /repos/{owner}/{repo}", { owner: "other", repo: "z" }))
      .data.id;
    expect((await mint({ repository_ids: [otherOrgId] })).status).toBe(422);
    expect((await mint({ repositories: ["x", "ghost"] })).status).toBe(422);
    for (const permissions of [{ workflows: "write" }, { members: "write" }]) {
      const r = await mint({ permissions });
      expect(r.status).toBe(422);
      expect((r.data as { message: string }).message).toBe(
        "The permissions requested are not granted to this installation.",
      );
    }
    // A level the description does not have is refused by its schema before any grant is looked at.
    const admin = await mint({ permissions: { contents: "admin" } });
    expect(admin.status).toBe(422);
    expect((admin.data as { message: string }).message).toContain(`"admin" is not one of read, write.`);
    expect(t.takeViolations()).toMatchObject([
      { kind: "request-body", subject: "POST /app/installations/{installation_id}/access_tokens" },
    ]);
  });
});

describe("sandbox: suspending and deleting an installation", () => {
  let t: TestSandbox;
  let installationId: number;
  let olivia: TestUser;

  beforeAll(async () => {
    t = await startTestSandbox();
    olivia = await t.createUser("olivia");
    ({ installationId } = await t.createOrg("acme", olivia.login));
    await t.createRepo("acme", "r", { private: true });
  });
  afterAll(async () => {
    await t?.close();
  });
  const jwt = () => t.octokit(t.appJwt());

  it("a suspended installation mints no token, its tokens get GitHub's 403, its webhooks stop", async () => {
    const before = await t.installationOctokit("acme");
    let mark = t.webhooks.length;
    expect(
      (
        await settle(
          jwt().request("PUT /app/installations/{installation_id}/suspended", {
            installation_id: installationId,
          }),
        )
      ).status,
    ).toBe(204);
    let hooks = await t.idle().then(() => t.webhooks.slice(mark));
    expect(hooks.map((h) => `${h.event}.${h.action}`)).toEqual(["installation.suspend"]);
    expect(schemaErrors(hooks[0]!)).toEqual([]);
    const installation = hooks[0]!.payload.installation as {
      suspended_at: string | null;
      suspended_by: { login: string } | null;
    };
    expect(installation.suspended_at).not.toBeNull();
    expect(installation.suspended_by?.login).toBe("pullgate[bot]");

    const shown = await jwt().request("GET /app/installations/{installation_id}", {
      installation_id: installationId,
    });
    expect(shown.data.suspended_by?.login).toBe("pullgate[bot]");
    expect(restErrors("get__app__installations__{installation_id}.200", shown.data)).toEqual([]);
    const used = await settle(before.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "r" }));
    expect(used.status).toBe(403);
    expect((used.data as { message: string }).message).toBe("This installation has been suspended");
    const minted = await settle(
      jwt().request("POST /app/installations/{installation_id}/access_tokens", {
        installation_id: installationId,
      }),
    );
    expect(minted.status).toBe(403);
    expect((minted.data as { message: string }).message).toBe("This installation has been suspended");

    mark = t.webhooks.length;
    await olivia.octokit.request("POST /repos/{owner}/{repo}/issues", {
      owner: "acme",
      repo: "r",
      title: "while suspended",
    });
    expect((await t.idle().then(() => t.webhooks.slice(mark))).length).toBe(0);

    mark = t.webhooks.length;
    expect(
      (
        await settle(
          jwt().request("DELETE /app/installations/{installation_id}/suspended", {
            installation_id: installationId,
          }),
        )
      ).status,
    ).toBe(204);
    hooks = await t.idle().then(() => t.webhooks.slice(mark));
    expect(hooks.map((h) => `${h.event}.${h.action}`)).toEqual(["installation.unsuspend"]);
    expect(schemaErrors(hooks[0]!)).toEqual([]);
    expect(
      (await settle(before.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "r" }))).status,
    ).toBe(200);
  });

  it("suspend endpoints need the app's JWT and a known installation", async () => {
    expect(
      (
        await settle(
          olivia.octokit.request("PUT /app/installations/{installation_id}/suspended", {
            installation_id: installationId,
          }),
        )
      ).status,
    ).toBe(401);
    expect(
      (
        await settle(
          jwt().request("PUT /app/installations/{installation_id}/suspended", { installation_id: 424242 }),
        )
      ).status,
    ).toBe(404);
  });

  it("deleting the installation sends installation.deleted and revokes its tokens", async () => {
    const app = await t.installationOctokit("acme");
    const mark = t.webhooks.length;
    expect(
      (
        await settle(
          jwt().request("DELETE /app/installations/{installation_id}", { installation_id: installationId }),
        )
      ).status,
    ).toBe(204);
    const hooks = await t.idle().then(() => t.webhooks.slice(mark));
    expect(hooks.map((h) => `${h.event}.${h.action}`)).toEqual(["installation.deleted"]);
    expect(schemaErrors(hooks[0]!)).toEqual([]);
    const used = await settle(app.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "r" }));
    expect(used.status).toBe(401);
    expect(
      (
        await settle(
          jwt().request("GET /app/installations/{installation_id}", { installation_id: installationId }),
        )
      ).status,
    ).toBe(404);
    // Nothing more reaches the app about the org.
    const after = t.webhooks.length;
    await olivia.octokit.request("POST /repos/{owner}/{repo}/issues", {
      owner: "acme",
      repo: "r",
      title: "after",
    });
    await t.idle();
    expect(t.webhooks.length).toBe(after);
  });
});

describe("sandbox: a state.json from before selections loads as 'all'", () => {
  it("an installation record without repository_selection covers every repository", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pullgate-installs-"));
    try {
      let sandbox = await startSandbox({ dir });
      const admin = new Octokit({ auth: sandbox.adminToken, baseUrl: sandbox.apiUrl });
      await admin.request("POST /admin/users", { login: "olivia", email: "o@example.test" });
      await admin.request("POST /admin/organizations", { login: "old", admin: "olivia" });
      await admin.request("POST /orgs/{org}/repos", { org: "old", name: "r1", private: true });
      await sandbox.close();
      // Strip what this change added, as an older sandbox wrote it.
      const file = join(dir, "state.json");
      const state = JSON.parse(readFileSync(file, "utf8")) as {
        installations: Record<string, Record<string, unknown>>;
      };
      for (const installation of Object.values(state.installations)) {
        delete installation.repository_selection;
        delete installation.repository_ids;
        delete installation.suspended_by;
        delete installation.updated_at;
      }
      writeFileSync(file, JSON.stringify(state));
      sandbox = await startSandbox({ dir });
      try {
        const installation = Object.values(sandbox.state.installations)[0]!;
        expect(installation.repository_selection).toBeUndefined();
        const reloaded = new Octokit({ auth: sandbox.adminToken, baseUrl: sandbox.apiUrl });
        const { data: user } = await reloaded.request("POST /admin/users/{username}/authorizations", {
          username: "olivia",
          scopes: ["repo"],
        });
        const olivia = new Octokit({ auth: (user as { token: string }).token, baseUrl: sandbox.apiUrl });
        const listed = await olivia.request("GET /user/installations/{installation_id}/repositories", {
          installation_id: installation.id,
        });
        expect(listed.data.repository_selection).toBe("all");
        expect(listed.data.repositories.map((r) => r.name)).toEqual(["r1"]);
      } finally {
        await sandbox.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
