import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";

/**
 * app.yml rendered into a GitHub App manifest (docs/setup.md): what GitHub's new-app page is given
 * in the app-manifest flow. Permissions and events are app.yml's, unchanged: the setup never asks
 * for more than the checked-in least-privilege list (test/app-manifest.test.ts checks that list
 * against the handlers).
 */
export interface AppManifest {
  name: string;
  url: string;
  description?: string;
  hook_attributes: { url: string; active: true };
  redirect_url: string;
  public: boolean;
  default_permissions: Record<string, string>;
  default_events: string[];
}

/** app.yml at the package root (next to src/ and dist/, both one level below it). */
export const APP_YML_PATH = fileURLToPath(new URL("../../app.yml", import.meta.url));

/** GitHub's limit on an app's name. */
export const MAX_APP_NAME = 34;

export function readAppYml(path = APP_YML_PATH): Record<string, unknown> {
  const parsed = yaml.load(readFileSync(path, "utf8"));
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new Error(`${path} is not a YAML mapping`);
  return parsed as Record<string, unknown>;
}

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (
      (url.protocol === "http:" || url.protocol === "https:") && url.username === "" && url.password === ""
    );
  } catch {
    return false;
  }
}

/** The manifest for one registration; throws on a value GitHub would refuse, before anything is sent. */
export function renderManifest(
  appYml: Record<string, unknown>,
  options: { name: string; webhookUrl: string; redirectUrl: string },
): AppManifest {
  const name = options.name.trim();
  if (name === "" || name.length > MAX_APP_NAME)
    throw new Error(`the app name must be 1 to ${MAX_APP_NAME} characters`);
  if (!isHttpUrl(options.webhookUrl)) throw new Error("the webhook URL must be an http(s) URL");
  if (!isHttpUrl(options.redirectUrl)) throw new Error("the redirect URL must be an http(s) URL");
  const url = appYml.url;
  if (typeof url !== "string" || !isHttpUrl(url)) throw new Error("app.yml has no http(s) url");
  const permissions = appYml.default_permissions;
  if (typeof permissions !== "object" || permissions === null || Array.isArray(permissions))
    throw new Error("app.yml has no default_permissions mapping");
  const levels: Record<string, string> = {};
  for (const [key, level] of Object.entries(permissions as Record<string, unknown>)) {
    if (level !== "read" && level !== "write") throw new Error(`app.yml: ${key} is not read or write`);
    levels[key] = level;
  }
  const events = appYml.default_events;
  if (!Array.isArray(events) || events.some((e) => typeof e !== "string"))
    throw new Error("app.yml has no default_events list");
  return {
    name,
    url,
    ...(typeof appYml.description === "string" ? { description: appYml.description } : {}),
    hook_attributes: { url: options.webhookUrl, active: true },
    redirect_url: options.redirectUrl,
    // Never public unless app.yml says so: anyone could install a public app.
    public: appYml.public === true,
    default_permissions: levels,
    default_events: events as string[],
  };
}
