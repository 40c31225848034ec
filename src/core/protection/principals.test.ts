import { describe, expect, it } from "vitest";
import { APP_ID, ctx } from "../../../test/protection/fixtures.js";
import { describeActor, isAdminActor, isAllowedBypass, isOwnApp, principalsOf } from "./principals.js";
import type { BypassActor } from "./types.js";

const always = { mode: "always" } as const;

describe("principalsOf", () => {
  it("names built-in repository roles by GitHub's fixed ids, custom roles by id or resolved name", () => {
    expect(principalsOf({ kind: "repository-role", roleId: 5, ...always }, ctx)).toEqual([
      "role:admin",
      "role:5",
    ]);
    expect(principalsOf({ kind: "repository-role", roleId: 4, ...always }, ctx)).toEqual([
      "role:write",
      "role:4",
    ]);
    expect(principalsOf({ kind: "repository-role", roleId: 2, ...always }, ctx)).toEqual([
      "role:maintain",
      "role:2",
    ]);
    expect(principalsOf({ kind: "repository-role", roleId: 31, ...always }, ctx)).toEqual(["role:31"]);
    expect(
      principalsOf({ kind: "repository-role", roleId: 31, ...always }, { ...ctx, roles: { 31: "deployer" } }),
    ).toEqual(["role:deployer", "role:31"]);
  });

  it("names teams as @org/slug from the id map or the classic slug, users as @login", () => {
    expect(principalsOf({ kind: "team", id: 77, slug: null, ...always }, ctx)).toEqual([
      "@acme/release",
      "team:77",
    ]);
    expect(principalsOf({ kind: "team", id: 78, slug: "everyone", ...always }, ctx)).toEqual([
      "@acme/everyone",
      "team:78",
    ]);
    expect(principalsOf({ kind: "team", id: 55, slug: null, ...always }, ctx)).toEqual(["team:55"]);
    expect(principalsOf({ kind: "user", id: 1001, login: null, ...always }, ctx)).toEqual([
      "@mallory",
      "user:1001",
    ]);
    expect(principalsOf({ kind: "user", id: 9, login: "Alice", ...always }, ctx)).toEqual([
      "@Alice",
      "user:9",
    ]);
  });

  it("names apps by id and slug, admin classes by role", () => {
    expect(principalsOf({ kind: "app", id: 2740, slug: null, ...always }, ctx)).toEqual(["app:2740"]);
    expect(principalsOf({ kind: "app", id: APP_ID, slug: null, ...always }, ctx)).toEqual([
      `app:${APP_ID}`,
      "app:pullgate",
    ]);
    expect(principalsOf({ kind: "organization-admin", ...always }, ctx)).toEqual(["role:organization-admin"]);
    expect(principalsOf({ kind: "admins", ...always }, ctx)).toEqual(["role:admin"]);
  });
});

describe("bypass judgement helpers", () => {
  it("recognises pullgate's own app by id, or by slug only when the id is unknown", () => {
    expect(isOwnApp({ kind: "app", id: APP_ID, slug: null, ...always }, ctx)).toBe(true);
    expect(isOwnApp({ kind: "app", id: null, slug: "pullgate", ...always }, ctx)).toBe(true);
    // Another app cannot pass as pullgate by its slug.
    expect(isOwnApp({ kind: "app", id: 666, slug: "pullgate", ...always }, ctx)).toBe(false);
    expect(isOwnApp({ kind: "user", id: APP_ID, login: "pullgate", ...always }, ctx)).toBe(false);
  });

  it("classes admins, org and enterprise owners and the admin role as admin actors", () => {
    const admins: BypassActor[] = [
      { kind: "admins", ...always },
      { kind: "organization-admin", ...always },
      { kind: "enterprise-owner", ...always },
      { kind: "repository-role", roleId: 5, ...always },
    ];
    for (const a of admins) expect(isAdminActor(a)).toBe(true);
    expect(isAdminActor({ kind: "repository-role", roleId: 4, ...always })).toBe(false);
  });

  it("matches allowedBypass case-insensitively and never guesses an unresolved id", () => {
    const team77: BypassActor = { kind: "team", id: 77, slug: null, ...always };
    expect(isAllowedBypass(team77, ["@ACME/Release"], ctx)).toBe(true);
    expect(isAllowedBypass({ kind: "team", id: 55, slug: null, ...always }, ["@acme/release"], ctx)).toBe(
      false,
    );
    expect(isAllowedBypass({ kind: "app", id: APP_ID, slug: null, ...always }, [], ctx)).toBe(true);
    expect(isAllowedBypass({ kind: "unreadable", ...always }, ["unreadable-bypass-list"], ctx)).toBe(false);
  });

  it("describes pull-request-only bypass and classic admins for reports", () => {
    expect(describeActor({ kind: "repository-role", roleId: 4, mode: "pull_request" }, ctx)).toBe(
      "role:write (on pull requests)",
    );
    expect(describeActor({ kind: "admins", ...always }, ctx)).toBe(
      "repository admins and organization owners (enforce_admins off)",
    );
  });
});
