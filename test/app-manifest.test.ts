/**
 * app.yml is what an org installs: an event the app handles but the manifest does not subscribe
 * to, or subscribes to without the permission GitHub requires for it, is silently never delivered
 * (a merge queue would wait for ever on pullgate's check; a lost access would never re-gate). The
 * handlers registered by the real app function are checked against the manifest.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { pullgateApp } from "../src/app.js";

interface Manifest {
  default_events: string[];
  default_permissions: Record<string, "read" | "write">;
}

const manifest = yaml.load(readFileSync(join(import.meta.dirname, "..", "app.yml"), "utf8")) as Manifest;

/** GitHub delivers these to every app, whatever it subscribes to. */
const ALWAYS_DELIVERED = new Set(["installation", "installation_repositories"]);

/**
 * The permission GitHub requires to subscribe to each event (docs: "Webhook events and payloads",
 * "To subscribe to this event, a GitHub App must have at least read-level access for …").
 */
const EVENT_PERMISSION: Record<string, string> = {
  branch_protection_rule: "administration",
  check_run: "checks",
  check_suite: "checks",
  member: "members",
  membership: "members",
  merge_group: "merge_queues",
  organization: "members",
  pull_request: "pull_requests",
  pull_request_review: "pull_requests",
  push: "contents",
  repository: "metadata",
  repository_ruleset: "administration",
  team: "members",
};

/** The event names (without actions) the app registers handlers for. */
function handledEvents(): string[] {
  const events = new Set<string>();
  const fakeApp = {
    on(names: string | string[]) {
      for (const name of Array.isArray(names) ? names : [names]) events.add(name.split(".")[0] ?? name);
    },
    log: { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined },
  };
  // The app function only registers handlers; nothing is called until an event arrives.
  void pullgateApp({ appId: 1, appSlug: "pullgate" })(fakeApp as never, {} as never);
  return [...events].sort();
}

describe("app.yml subscribes to what the app handles, with the permissions GitHub requires", () => {
  const handled = handledEvents();

  it("the app registers handlers (the probe works)", () => {
    expect(handled).toEqual(expect.arrayContaining(["pull_request", "push", "merge_group", "member"]));
  });

  it("every handled event is subscribed to (or always delivered)", () => {
    expect(handled.filter((e) => !ALWAYS_DELIVERED.has(e) && !manifest.default_events.includes(e))).toEqual(
      [],
    );
  });

  it("every subscribed event is handled (no permission asked for nothing)", () => {
    expect(manifest.default_events.filter((e) => !handled.includes(e))).toEqual([]);
  });

  it("every subscribed event has the permission GitHub requires for it", () => {
    for (const event of manifest.default_events) {
      const permission = EVENT_PERMISSION[event];
      expect(permission, `no known permission for ${event}`).toBeDefined();
      expect(manifest.default_permissions[permission ?? ""], `${event} needs ${permission}`).toBeDefined();
    }
  });
});
