/**
 * Where GitHub's published description and GitHub's real behaviour differ, the strict sandbox
 * follows GitHub. Each such difference is listed here, with the public evidence, and applied to the
 * in-memory contract index (never to the packages). sandbox/DEVIATIONS.md explains each one.
 */
import { baseId, type Json, type JsonObject } from "./schema.js";
import { DOTCOM, WEBHOOKS, type ContractIndex } from "./description.js";
import { normalizeTemplate } from "./sources.js";

export interface Deviation {
  /** The operation (`METHOD template`) or webhook (`event.action`) concerned. */
  subject: string;
  /** What the description says. */
  description: string;
  /** What GitHub does, which the sandbox follows. */
  github: string;
  /** Public evidence of GitHub's behaviour. */
  evidence: string;
  apply(index: ContractIndex): void;
}

function operation(index: ContractIndex, template: string) {
  const [method = "", path = ""] = template.split(" ");
  const op = index.operations[`${method} ${normalizeTemplate(path)}`];
  if (op === undefined) throw new Error(`deviation for unknown operation ${template}`);
  return op;
}

function object(node: Json | undefined, what: string): JsonObject {
  if (node === null || node === undefined || typeof node !== "object" || Array.isArray(node))
    throw new Error(`deviation: ${what} is not an object schema`);
  return node;
}

/** A nullable object schema is `{type: ["object","null"], ...}` after conversion (schema.ts). */
function property(schema: JsonObject, name: string): JsonObject {
  return object(object(schema.properties, `properties of ${name}`)[name], name);
}

export const DEVIATIONS: readonly Deviation[] = [
  {
    subject: "PUT /repos/{owner}/{repo}/branches/{branch}/protection",
    description: "`required_status_checks` requires `strict` and `contexts`; `checks` is optional.",
    github:
      "GitHub takes exactly one of `checks` and `contexts` (422 for both or neither); `contexts` is closing down and not required. The sandbox's handler (protection/model.ts) enforces the one-of.",
    evidence:
      'Observed 422s: both keys, "More than one subschema in \\"oneOf\\" matched." (https://github.com/ossf/allstar/issues/155, https://github.com/sigmavirus24/github3.py/issues/1112); neither (`{strict: true}` alone), "No subschema in \\"oneOf\\" matched.", and `checks` alone accepted (https://github.com/google/go-github/issues/2976).',
    apply(index) {
      const body = object(operation(index, this.subject).body?.schema, "protection body");
      const checks = property(body, "required_status_checks");
      checks.required = ["strict"];
    },
  },
  {
    subject: "GET /app/installations",
    description:
      "The 200 schema types each installation's `account` as allOf [simple-user, enterprise]: a user and an enterprise at once, which no account is.",
    github:
      "An installation's account is a user/organization or an enterprise, as components/schemas/installation says (anyOf).",
    evidence:
      "The description's own components/schemas/installation (anyOf simple-user, enterprise), and its example response for this operation: an account with user fields only.",
    apply(index) {
      operation(index, this.subject).responses["200"] = {
        type: "array",
        items: { $ref: `${baseId(DOTCOM)}#/components/schemas/installation` },
      };
    },
  },
  {
    subject: "GET /repos/{owner}/{repo}/contents",
    description: "Only `/contents/{path}` is described.",
    github:
      'GitHub serves the repository root at `/contents/` (Octokit\'s `path: ""`) and `/contents`; the sandbox route is checked as the `{path}` operation (sources.ts ROUTE_ALIASES).',
    evidence:
      'https://docs.github.com/rest/repos/contents#get-repository-content ("If the path is not specified, the contents of the repository\'s root directory" are listed: the description cannot spell an empty path segment).',
    apply() {
      // Applied by routing (ROUTE_ALIASES), nothing to change in the schemas.
    },
  },
  {
    subject: "webhooks: app.events (check_suite, check_run, installation, ...)",
    description:
      "The enum of the events an app subscribes to (`app.events`, `performed_via_github_app.events`) predates `merge_group` and `repository_ruleset`.",
    github:
      "Apps subscribe to both (pullgate's app.yml does), and their payloads list them in `events`; the enums are widened by those two names.",
    evidence:
      'https://docs.github.com/webhooks/webhook-events-and-payloads#merge_group and #repository_ruleset ("Availability": GitHub Apps).',
    apply(index) {
      const widen = (node: Json): void => {
        if (node === null || typeof node !== "object") return;
        if (Array.isArray(node)) return node.forEach(widen);
        const events = node.properties;
        if (events !== null && typeof events === "object" && !Array.isArray(events)) {
          const items = (events.events as JsonObject | undefined)?.items;
          if (
            items !== null &&
            typeof items === "object" &&
            !Array.isArray(items) &&
            Array.isArray(items.enum) &&
            items.enum.includes("check_suite")
          )
            for (const extra of APP_EVENTS_MISSING) if (!items.enum.includes(extra)) items.enum.push(extra);
        }
        for (const value of Object.values(node)) widen(value);
      };
      widen((index.components[WEBHOOKS] ?? {}) as Json);
      widen(index.webhooks as Json);
    },
  },
];

/** App events GitHub sends that the webhook description's enums lack. */
const APP_EVENTS_MISSING = ["merge_group", "repository_ruleset"];

const applied = new WeakSet<ContractIndex>();

/** Applies every deviation once per loaded index. */
export function applyDeviations(index: ContractIndex): void {
  if (applied.has(index)) return;
  applied.add(index);
  for (const d of DEVIATIONS) d.apply(index);
}
