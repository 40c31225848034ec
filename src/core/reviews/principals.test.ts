import { describe, expect, it } from "vitest";
import {
  TeamDirectory,
  formatPrincipal,
  parsePrincipal,
  principalIncludes,
  sameLogin,
} from "./principals.js";

describe("parsePrincipal", () => {
  it("parses users, teams and emails", () => {
    expect(parsePrincipal("@alice")).toEqual({ kind: "user", login: "alice" });
    expect(parsePrincipal("@dependabot[bot]")).toEqual({ kind: "user", login: "dependabot[bot]" });
    expect(parsePrincipal("@Acme/Platform-Team")).toEqual({
      kind: "team",
      org: "Acme",
      slug: "Platform-Team",
      key: "acme/platform-team",
    });
    expect(parsePrincipal("ops@example.com")).toEqual({ kind: "email", email: "ops@example.com" });
  });

  it("marks anything else invalid", () => {
    for (const raw of ["alice", "@", "@/team", "@org/", "@org/a/b", "@-alice", "@al ice", ""]) {
      expect(parsePrincipal(raw).kind, raw).toBe("invalid");
    }
  });

  it("formats back to the canonical spelling", () => {
    for (const raw of ["@alice", "@acme/ops", "ops@example.com", "nonsense"]) {
      expect(formatPrincipal(parsePrincipal(raw))).toBe(raw);
    }
  });
});

describe("membership", () => {
  const teams = new TeamDirectory({ "Acme/Ops": ["Alice", "bob"] });

  it("compares logins case-insensitively", () => {
    expect(sameLogin("Alice", "alice")).toBe(true);
    expect(sameLogin("alice", "@ALICE")).toBe(true);
    expect(sameLogin("alice", "alice2")).toBe(false);
  });

  it("matches a user principal by login in any case", () => {
    expect(principalIncludes(parsePrincipal("@ALICE"), "alice", teams)).toBe(true);
    expect(principalIncludes(parsePrincipal("@alice"), "bob", teams)).toBe(false);
  });

  it("matches a team principal by membership, case-insensitively on team and login", () => {
    expect(principalIncludes(parsePrincipal("@acme/ops"), "ALICE", teams)).toBe(true);
    expect(principalIncludes(parsePrincipal("@ACME/OPS"), "bob", teams)).toBe(true);
    expect(principalIncludes(parsePrincipal("@acme/ops"), "carol", teams)).toBe(false);
  });

  it("gives an unknown team no members", () => {
    expect(principalIncludes(parsePrincipal("@acme/other"), "alice", teams)).toBe(false);
  });

  it("never resolves an email or invalid principal", () => {
    expect(principalIncludes(parsePrincipal("alice@example.com"), "alice", teams)).toBe(false);
    expect(principalIncludes(parsePrincipal("alice"), "alice", teams)).toBe(false);
  });
});
