import { resolveTarget, type RecordTarget } from "../agent/target.js";
import { requireOption } from "./args.js";

/** The options `verify` and `agent` share: which record to fetch, and how to judge it. */
export const RECORD_TARGET_OPTIONS = {
  repo: { type: "string" },
  environment: { type: "string" },
  keys: { type: "string" },
  state: { type: "string" },
  "max-age": { type: "string" },
  "refresh-interval": { type: "string" },
  repository: { type: "string" },
  "refuse-break-glass": { type: "boolean", default: false },
} as const;

/** The record target those options name (UsageError for a missing required one). */
export function recordTargetFrom(
  values: {
    repo?: string;
    environment?: string;
    keys?: string;
    repository?: string;
    "max-age"?: string;
    "refresh-interval"?: string;
    "refuse-break-glass"?: boolean;
  },
  cwd: string,
): Promise<RecordTarget> {
  return resolveTarget(
    {
      repo: requireOption(values.repo, "repo"),
      environment: requireOption(values.environment, "environment"),
      keys: requireOption(values.keys, "keys"),
      repository: values.repository,
      maxAge: values["max-age"],
      refreshInterval: values["refresh-interval"],
      refuseBreakGlass: values["refuse-break-glass"],
    },
    cwd,
  );
}
