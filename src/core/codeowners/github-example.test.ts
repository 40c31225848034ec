import { describe, expect, it } from "vitest";
import { compileCodeowners } from "./match.js";
import { parseCodeowners } from "./parse.js";

/**
 * The rules of the example CODEOWNERS file in GitHub's "About code owners" documentation, in its
 * order (comments shortened). The expectations below are the ones the documentation states, plus
 * what "the last matching pattern takes the most precedence" implies for the file as a whole.
 */
const EXAMPLE = [
  "# This is a comment.",
  "# Each line is a file pattern followed by one or more owners.",
  "",
  "# Default owners for everything in the repo.",
  "*       @global-owner1 @global-owner2",
  "",
  "# Order is important; the last matching pattern takes the most precedence.",
  "*.js    @js-owner #This is an inline comment.",
  "",
  "# Email addresses work too.",
  "*.go docs@example.com",
  "",
  "# Teams: @org/team-name.",
  "*.txt @octo-org/octocats",
  "",
  "# build/logs at the root and any of its subdirectories.",
  "/build/logs/ @doctocat",
  "",
  "# docs/* matches docs/getting-started.md but not docs/build-app/troubleshooting.md.",
  "docs/*  docs@example.com",
  "",
  "# Any file in an apps directory anywhere in the repository.",
  "apps/ @octocat",
  "",
  "# Any file in /docs at the root and any of its subdirectories.",
  "/docs/ @doctocat",
  "",
  "# Any change inside /scripts requires @doctocat or @octocat.",
  "/scripts/ @doctocat @octocat",
  "",
  "# Any file in a logs directory such as /build/logs, /scripts/logs, /deeply/nested/logs.",
  "**/logs @octocat",
  "",
  "# /apps at the root, except /apps/github whose owners are left empty.",
  "/apps/ @octocat",
  "/apps/github",
  "",
  "# /apps at the root, except /apps/github which has its own owner.",
  "/apps/ @octocat",
  "/apps/github @doctocat",
  "",
];

/** 1-based line of the n-th (0-based) occurrence of a rule line starting with `pattern `. */
function lineOf(pattern: string, occurrence = 0): number {
  let seen = 0;
  for (let i = 0; i < EXAMPLE.length; i++) {
    const text = EXAMPLE[i] ?? "";
    if (text === pattern || text.startsWith(`${pattern} `)) {
      if (seen === occurrence) return i + 1;
      seen++;
    }
  }
  throw new Error(`no rule ${pattern}`);
}

/** A matcher over the file cut just after `line`: what each rule means on its own, in context. */
function matcherThrough(line: number) {
  return compileCodeowners(parseCodeowners(EXAMPLE.slice(0, line).join("\n")));
}

describe("GitHub's documented example CODEOWNERS file", () => {
  const parsed = parseCodeowners(EXAMPLE.join("\n"));
  const matcher = compileCodeowners(parsed);

  it("parses without errors", () => {
    expect(parsed.errors).toEqual([]);
    expect(parsed.rules).toHaveLength(14);
  });

  const whole: [string, string[], number][] = [
    ["README.md", ["@global-owner1", "@global-owner2"], lineOf("*")],
    ["src/app.js", ["@js-owner"], lineOf("*.js")],
    ["cmd/main.go", ["docs@example.com"], lineOf("*.go")],
    ["notes/todo.txt", ["@octo-org/octocats"], lineOf("*.txt")],
    // /build/logs/ is overridden by the later **/logs.
    ["build/logs/today.log", ["@octocat"], lineOf("**/logs")],
    ["docs/getting-started.md", ["@doctocat"], lineOf("/docs/")],
    ["docs/build-app/troubleshooting.md", ["@doctocat"], lineOf("/docs/")],
    ["lib/apps/widget.ts", ["@octocat"], lineOf("apps/")],
    ["scripts/deploy.sh", ["@doctocat", "@octocat"], lineOf("/scripts/")],
    ["scripts/logs/run.log", ["@octocat"], lineOf("**/logs")],
    ["deeply/nested/logs/x.log", ["@octocat"], lineOf("**/logs")],
    ["apps/web/index.js", ["@octocat"], lineOf("/apps/", 1)],
    ["apps/github/deploy.yaml", ["@doctocat"], lineOf("/apps/github", 1)],
    ["apps/github/nested/a.txt", ["@doctocat"], lineOf("/apps/github", 1)],
  ];
  for (const [path, owners, line] of whole) {
    it(`${path} → ${owners.join(" ")} (line ${line})`, () => {
      expect(matcher.ownersOf(path)).toEqual({ owners, line });
    });
  }

  it("docs/* owns direct children of docs/ only", () => {
    const m = matcherThrough(lineOf("docs/*"));
    expect(m.ownersOf("docs/getting-started.md")).toEqual({
      owners: ["docs@example.com"],
      line: lineOf("docs/*"),
    });
    expect(m.ownersOf("docs/build-app/troubleshooting.md").line).toBe(lineOf("*"));
  });

  it("/build/logs/ owns build/logs and its subdirectories, and nothing elsewhere", () => {
    const m = matcherThrough(lineOf("/build/logs/"));
    expect(m.ownersOf("build/logs/a.log").owners).toEqual(["@doctocat"]);
    expect(m.ownersOf("build/logs/2024/01/a.log").owners).toEqual(["@doctocat"]);
    expect(m.ownersOf("x/build/logs/a.log").owners).toEqual(["@global-owner1", "@global-owner2"]);
  });

  it("an empty owner list leaves /apps/github unowned while /apps/ stays owned", () => {
    const m = matcherThrough(lineOf("/apps/github"));
    expect(m.ownersOf("apps/github/ci.yaml")).toEqual({ owners: [], line: lineOf("/apps/github") });
    expect(m.ownersOf("apps/other/ci.yaml")).toEqual({ owners: ["@octocat"], line: lineOf("/apps/") });
  });
});
