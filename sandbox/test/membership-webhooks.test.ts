/**
 * Access-change webhooks (member, membership, organization, team): each one the sandbox sends on
 * a collaborator, org membership, team membership or team repository change, with GitHub's
 * payload, validated against GitHub's published schema (sandbox/test/fixtures/openapi-webhooks).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schemaName, webhookErrors, webhookSchemas } from "../src/testing/webhook-schemas.js";
import {
  startTestSandbox,
  type ReceivedWebhook,
  type TestSandbox,
  type TestUser,
} from "../src/testing/harness.js";

describe("sandbox: access-change webhooks", () => {
  let t: TestSandbox;
  let olivia: TestUser;
  const params = { owner: "acme", repo: "deploy" };

  beforeAll(async () => {
    // Compiling every schema blocks the event loop for seconds: do it before any connection is
    // open, so no keep-alive socket to the sandbox expires in the middle of a test.
    webhookSchemas();
    t = await startTestSandbox();
    olivia = await t.createUser("olivia");
    await t.createUser("bob");
    await t.createUser("carol");
    await t.createOrg("acme", "olivia");
    await t.createRepo("acme", "deploy");
    await olivia.octokit.request("POST /orgs/{org}/teams", { org: "acme", name: "sre" });
    await t.idle();
  });
  afterAll(async () => t.close());

  /** Runs `change`, then returns the deliveries of `event` it caused. */
  async function hooksOf(event: string, change: () => Promise<unknown>): Promise<ReceivedWebhook[]> {
    await t.idle();
    const from = t.webhooks.length;
    await change();
    await t.idle();
    return t.webhooks.slice(from).filter((h) => h.event === event);
  }

  function expectValid(hooks: ReceivedWebhook[], names: string[]): void {
    expect(hooks.map(schemaName)).toEqual(names);
    for (const hook of hooks) {
      expect(hook.signatureValid).toBe(true);
      expect({ name: schemaName(hook), errors: webhookErrors(hook) }).toEqual({
        name: schemaName(hook),
        errors: [],
      });
      expect(hook.payload.installation).toMatchObject({ id: expect.any(Number) });
      expect((hook.payload.sender as { login: string }).login).toBe("olivia");
    }
  }

  it("member: added (new collaborator), edited (permission change), removed; no event for a no-op", async () => {
    const collaborator = (permission: string) =>
      olivia.octokit.request("PUT /repos/{owner}/{repo}/collaborators/{username}", {
        ...params,
        username: "bob",
        permission,
      });
    const added = await hooksOf("member", () => collaborator("push"));
    expectValid(added, ["member.added"]);
    expect(added[0]?.payload).toMatchObject({
      member: { login: "bob" },
      changes: { permission: { to: "write" }, role_name: { to: "write" } },
      repository: { full_name: "acme/deploy" },
    });

    expect(await hooksOf("member", () => collaborator("push"))).toEqual([]);

    const edited = await hooksOf("member", () => collaborator("pull"));
    expectValid(edited, ["member.edited"]);
    expect(edited[0]?.payload.changes).toEqual({
      old_permission: { from: "write" },
      permission: { from: "write", to: "read" },
    });

    const removed = await hooksOf("member", () =>
      olivia.octokit.request("DELETE /repos/{owner}/{repo}/collaborators/{username}", {
        ...params,
        username: "bob",
      }),
    );
    expectValid(removed, ["member.removed"]);
    expect(removed[0]?.payload).toMatchObject({ member: { login: "bob" }, repository: { name: "deploy" } });

    expect(
      await hooksOf("member", () =>
        olivia.octokit.request("DELETE /repos/{owner}/{repo}/collaborators/{username}", {
          ...params,
          username: "bob",
        }),
      ),
    ).toEqual([]);
  });

  it("membership (scope team) and organization.member_added when a team membership also adds the user to the org", async () => {
    const added = await hooksOf("membership", () =>
      olivia.octokit.request("PUT /orgs/{org}/teams/{team_slug}/memberships/{username}", {
        org: "acme",
        team_slug: "sre",
        username: "carol",
      }),
    );
    expectValid(added, ["membership.added"]);
    expect(added[0]?.payload).toMatchObject({
      scope: "team",
      member: { login: "carol" },
      team: { slug: "sre", name: "sre" },
      organization: { login: "acme" },
    });
    const orgAdded = t.webhooks.filter(
      (h) => schemaName(h) === "organization.member_added" && JSON.stringify(h.payload).includes('"carol"'),
    );
    expectValid(orgAdded, ["organization.member_added"]);

    const removed = await hooksOf("membership", () =>
      olivia.octokit.request("DELETE /orgs/{org}/teams/{team_slug}/memberships/{username}", {
        org: "acme",
        team_slug: "sre",
        username: "carol",
      }),
    );
    expectValid(removed, ["membership.removed"]);
    expect(removed[0]?.payload).toMatchObject({ scope: "team", member: { login: "carol" } });
  });

  it("organization: member_added and member_removed carry the membership (role before removal)", async () => {
    const added = await hooksOf("organization", () =>
      olivia.octokit.request("PUT /orgs/{org}/memberships/{username}", {
        org: "acme",
        username: "bob",
        role: "admin",
      }),
    );
    expectValid(added, ["organization.member_added"]);
    expect(added[0]?.payload.membership).toMatchObject({
      role: "admin",
      state: "active",
      user: { login: "bob" },
    });

    // A role change of an existing member is not an addition.
    expect(
      await hooksOf("organization", () =>
        olivia.octokit.request("PUT /orgs/{org}/memberships/{username}", {
          org: "acme",
          username: "bob",
          role: "member",
        }),
      ),
    ).toEqual([]);

    const removed = await hooksOf("organization", () =>
      olivia.octokit.request("DELETE /orgs/{org}/memberships/{username}", { org: "acme", username: "bob" }),
    );
    expectValid(removed, ["organization.member_removed"]);
    expect(removed[0]?.payload.membership).toMatchObject({ role: "member", user: { login: "bob" } });
  });

  it("team: added_to_repository, edited with the previous permissions, removed_from_repository", async () => {
    const grant = (permission: string) =>
      olivia.octokit.request("PUT /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}", {
        org: "acme",
        team_slug: "sre",
        ...params,
        permission,
      });
    const added = await hooksOf("team", () => grant("push"));
    expectValid(added, ["team.added_to_repository"]);
    expect(added[0]?.payload).toMatchObject({
      team: { slug: "sre" },
      repository: { full_name: "acme/deploy", permissions: { admin: false, push: true, pull: true } },
    });

    expect(await hooksOf("team", () => grant("push"))).toEqual([]);

    const edited = await hooksOf("team", () => grant("pull"));
    expectValid(edited, ["team.edited"]);
    expect(edited[0]?.payload).toMatchObject({
      changes: { repository: { permissions: { from: { admin: false, push: true, pull: true } } } },
      repository: { permissions: { admin: false, push: false, pull: true } },
    });

    const removed = await hooksOf("team", () =>
      olivia.octokit.request("DELETE /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}", {
        org: "acme",
        team_slug: "sre",
        ...params,
      }),
    );
    expectValid(removed, ["team.removed_from_repository"]);
    expect(removed[0]?.payload).toMatchObject({ repository: { full_name: "acme/deploy" } });
    expect((removed[0]?.payload.repository as Record<string, unknown>).permissions).toBeUndefined();
  });

  it("the installation subscribes to the new events", async () => {
    const jwt = t.octokit(t.appJwt());
    const { data } = await jwt.request("GET /app/installations");
    const events = (data[0] as { events: string[] }).events;
    expect(events).toEqual(expect.arrayContaining(["member", "membership", "organization", "team"]));
    expect(events).toEqual([...events].sort());
  });
});
