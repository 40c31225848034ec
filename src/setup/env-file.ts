import { randomBytes } from "node:crypto";
import { open, link, unlink, stat, readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * The `.env` file `pullgate serve` reads and the setup writes (docs/setup.md): `KEY=value` lines,
 * `#` comments, values optionally in double quotes with `\n`, `\"` and `\\` escapes. No variable
 * expansion and no command substitution: the file is data, never evaluated.
 */
const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseEnvFile(text: string, source = ".env"): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const eq = trimmed.indexOf("=");
    const key = (eq === -1 ? trimmed : trimmed.slice(0, eq)).replace(/^export\s+/, "").trim();
    if (eq === -1 || !KEY.test(key)) throw new Error(`${source}:${index + 1}: not a KEY=value line`);
    let value = trimmed.slice(eq + 1).trim();
    if (value.startsWith('"')) {
      const m = /^"((?:[^"\\]|\\.)*)"$/.exec(value);
      if (m === null) throw new Error(`${source}:${index + 1}: unterminated quoted value`);
      value = (m[1] ?? "").replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    } else if (value.startsWith("'")) {
      const m = /^'([^']*)'$/.exec(value);
      if (m === null) throw new Error(`${source}:${index + 1}: unterminated quoted value`);
      value = m[1] ?? "";
    }
    values[key] = value;
  });
  return values;
}

/**
 * `KEY=value` lines. Plain values stay unquoted (docker's `--env-file` takes values literally,
 * quotes included); any other is double-quoted with escapes, so every value round-trips.
 */
export function formatEnvFile(entries: [string, string][], header: string[] = []): string {
  const quote = (v: string) =>
    /^[A-Za-z0-9_./:+=@,-]+$/.test(v)
      ? v
      : `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
  for (const [key] of entries) if (!KEY.test(key)) throw new Error(`${key} is not an environment name`);
  return [...header.map((h) => `# ${h}`), ...entries.map(([k, v]) => `${k}=${quote(v)}`)].join("\n") + "\n";
}

/**
 * Reads an env file when it exists (undefined when not). One that others may write is refused:
 * whoever can write it chooses the app's credentials and GitHub URL.
 */
export async function readEnvFile(path: string): Promise<Record<string, string> | undefined> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  if ((info.mode & 0o022) !== 0)
    throw new Error(
      `${path} is writable by group or others (mode ${(info.mode & 0o777).toString(8)}): not reading it`,
    );
  return parseEnvFile(await readFile(path, "utf8"), path);
}

/**
 * Creates `path` with `text`, mode 0600, atomically and only if it does not exist: the content goes
 * to a temporary file in the same directory, is synced, and is then hard-linked to its name (link
 * fails when the name exists, so an existing file is never replaced, and a reader never sees half a
 * file). Throws EEXIST's error when the name is taken.
 */
export async function createFileAtomic(path: string, text: string, mode = 0o600): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temporary, "wx", mode);
  try {
    await handle.writeFile(text, "utf8");
    // open's mode is filtered by the umask; the contract is 0600.
    await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temporary, path);
  } finally {
    await unlink(temporary);
  }
  // The directory entry itself, so a crash right after setup does not lose the file.
  const dir = await open(dirname(path), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
