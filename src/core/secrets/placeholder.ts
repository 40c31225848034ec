/**
 * Values that look like credentials by position (a Secret's data, a `password:` key) but are
 * obviously not one: empty, templated or a conventional placeholder. Treating these as secrets
 * would fail every example repository and teach people to ignore the rule.
 */
const PLACEHOLDER_WORDS = new Set([
  "changeme",
  "change-me",
  "change_me",
  "replaceme",
  "replace-me",
  "replace_me",
  "placeholder",
  "example",
  "redacted",
  "secret",
  "password",
  "todo",
  "tbd",
  "dummy",
  "fake",
  "test",
  "none",
  "null",
  "nil",
  "undefined",
  "true",
  "false",
  "~",
]);

export function isPlaceholder(value: string): boolean {
  const v = value.trim();
  if (v.length === 0) return true;
  // Templates: ${VAR}, $VAR, $(VAR), {{ .Values.x }}, <your-token>, %VAR%, ((var)) (Concourse).
  if (/^\$\{[^}]*\}$|^\$[A-Za-z_][A-Za-z0-9_]*$|^\$\([^)]*\)$/.test(v)) return true;
  if (isTemplated(v) || /^<[^<>]*>$/.test(v) || /^%[A-Za-z0-9_]+%$/.test(v) || /^\(\([^)]*\)\)$/.test(v)) {
    return true;
  }
  // A run of one character ("xxxx", "****", "0000").
  if (/^(.)\1*$/.test(v)) return true;
  const word = v.toLowerCase();
  if (PLACEHOLDER_WORDS.has(word)) return true;
  if (/^(?:your|my|insert|replace|put)[-_ ]/.test(word)) return true;
  if (/^(?:changeme|replaceme|placeholder|example|redacted|dummy)[-_.0-9a-z]*$/.test(word)) return true;
  return false;
}

/**
 * A value built by a template engine ("{{ .Values.password }}", "postgres://app:{{ .pw }}@db"). The
 * text around the templates must not itself carry a credential-length run, or a "{{ x }}" appended
 * to a real password would hide it.
 */
function isTemplated(value: string): boolean {
  if (!/\{\{.*?\}\}/.test(value)) return false;
  const rest = value.replace(/\{\{.*?\}\}/g, " ");
  return !/[^\s:/@.?&=,;'"]{12,}/.test(rest);
}

/** Decodes standard base64 strictly; null when the text is not base64 (then it is kept as is). */
export function decodeBase64(value: string): string | null {
  const v = value.replace(/\s+/g, "");
  if (v.length === 0) return "";
  if (v.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(v)) return null;
  return Buffer.from(v, "base64").toString("utf8");
}
