/**
 * The expected owner/name for the mix-and-match check, derived from the fetch URL or path when the
 * operator did not pass --repository: ".../owner/name(.git)" for https, ssh, scp-like and local paths.
 */

const PART = /^[A-Za-z0-9_.-]{1,100}$/;

export function deriveRepository(url: string): string | null {
  let path = url.trim();
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(path);
  if (scheme !== null) path = path.slice(scheme[0].length);
  else {
    // scp-like "git@host:owner/name.git" (but not a Windows drive letter or a plain path).
    const scp = /^[^/:]+@[^/:]+:/.exec(path) ?? /^[^/:]{2,}:(?!\/)/.exec(path);
    if (scp !== null) path = path.slice(scp[0].length);
  }
  path = path.split(/[?#]/)[0] ?? "";
  const parts = path.split("/").filter((p) => p !== "");
  const last = parts.pop();
  const owner = parts.pop();
  if (last === undefined || owner === undefined) return null;
  const name = last.endsWith(".git") ? last.slice(0, -4) : last;
  if (!PART.test(owner) || !PART.test(name) || [owner, name].some((p) => p === "." || p === ".."))
    return null;
  return `${owner}/${name}`;
}
