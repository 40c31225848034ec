import { compilePattern, pathSegments, patternMatches, type CompiledPattern } from "./pattern.js";
import type { CodeownersMatcher, CodeownersRule, OwnersMatch, ParsedCodeowners } from "./types.js";

/**
 * The CODEOWNERS matcher: the last rule in the file that matches a path decides its owners.
 *
 * A large monorepo file (thousands of rules) is matched against every changed path of a PR (up to
 * 3,000), so scanning every rule per path is too slow. Rules are indexed instead, so that a lookup
 * only examines the few rules that could match; those candidates are then checked in descending
 * line order and the first match wins, which is exactly "last match wins" over the whole file:
 *
 * - anchored rules (`/clusters/prod/`, `apps/web/*.yaml`) sit in a trie keyed by their leading
 *   literal segments; a lookup walks the path down the trie and collects the rules on the way;
 * - rules that may match at any depth (`*.yaml`, `apps/`, `**\/logs`) are keyed by their first
 *   segment after the leading `**`: by its text if literal, by its extension if it is a glob ending
 *   in `.ext`; a lookup probes each path segment's text and extension;
 * - whatever cannot be keyed (`*`, `/*`, `**`) is a candidate for every path.
 */

/** Thrown when a rule's pattern does not compile (a ParsedCodeowners not produced by the parser). */
export class CodeownersCompileError extends Error {
  override readonly name = "CodeownersCompileError";
  constructor(
    readonly rule: CodeownersRule,
    detail: string,
  ) {
    super(`CODEOWNERS line ${rule.line}: pattern "${rule.pattern}" does not compile: ${detail}`);
  }
}

interface CompiledRule {
  readonly rule: CodeownersRule;
  readonly pattern: CompiledPattern;
}

/** A lookup and how much work it took: used by tests and the benchmark. */
export interface OwnersLookup {
  match: OwnersMatch;
  /** Distinct rules the index offered as candidates. */
  candidates: number;
  /** Candidates actually tested before the first (i.e. last-in-file) match. */
  examined: number;
}

export interface IndexedCodeownersMatcher extends CodeownersMatcher {
  lookup(path: string): OwnersLookup;
  readonly ruleCount: number;
}

interface TrieNode {
  /** Indexes of rules whose leading literal segments end at this node. */
  rules: number[];
  children: Map<string, TrieNode>;
}

const NO_MATCH: OwnersMatch = { owners: [], line: null };

function compileRules(parsed: ParsedCodeowners): CompiledRule[] {
  return parsed.rules.map((rule) => {
    const result = compilePattern(rule.pattern);
    if (!result.ok) throw new CodeownersCompileError(rule, result.problem.message);
    return { rule, pattern: result.pattern };
  });
}

function matchOf(rule: CodeownersRule): OwnersMatch {
  return { owners: [...rule.owners], line: rule.line };
}

/** The extension of a segment, from its last dot (".yaml"), or null if it has none. */
function extensionOf(text: string): string | null {
  const dot = text.lastIndexOf(".");
  return dot < 0 ? null : text.slice(dot);
}

function pushAll(target: number[], source: readonly number[] | undefined): void {
  if (source === undefined) return;
  for (const index of source) target.push(index);
}

function addTo(map: Map<string, number[]>, key: string, index: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [index]);
  else list.push(index);
}

/** Compiles a parsed CODEOWNERS file once; `ownersOf` is then cheap per path. */
export function compileCodeowners(parsed: ParsedCodeowners): IndexedCodeownersMatcher {
  const rules = compileRules(parsed);
  const trie: TrieNode = { rules: [], children: new Map() };
  const bySegment = new Map<string, number[]>();
  const byExtension = new Map<string, number[]>();
  const always: number[] = [];

  rules.forEach(({ pattern }, index) => {
    const segments = pattern.segments;
    if (segments[0]?.kind !== "globstar") {
      // Anchored: walk the literal leading segments into the trie.
      let node = trie;
      for (const segment of segments) {
        if (segment.kind !== "literal") break;
        let child = node.children.get(segment.text);
        if (child === undefined) {
          child = { rules: [], children: new Map() };
          node.children.set(segment.text, child);
        }
        node = child;
      }
      if (node === trie) always.push(index);
      else node.rules.push(index);
      return;
    }
    // Any depth: the first segment after the leading globstar(s) must match some path segment.
    const key = segments.find((segment) => segment.kind !== "globstar");
    if (key?.kind === "literal") {
      addTo(bySegment, key.text, index);
      return;
    }
    if (key?.kind === "glob") {
      const extension = extensionOf(key.glob.literalSuffix);
      if (extension !== null) {
        addTo(byExtension, extension, index);
        return;
      }
    }
    always.push(index);
  });

  function candidatesOf(path: readonly string[]): number[] {
    const found: number[] = [];
    pushAll(found, always);
    let node: TrieNode | undefined = trie;
    for (const segment of path) {
      node = node.children.get(segment);
      if (node === undefined) break;
      pushAll(found, node.rules);
    }
    for (const segment of path) {
      pushAll(found, bySegment.get(segment));
      const extension = extensionOf(segment);
      if (extension !== null) pushAll(found, byExtension.get(extension));
    }
    // Descending file order: the first match is the last matching rule in the file.
    return found.sort((a, b) => b - a);
  }

  function lookup(path: string): OwnersLookup {
    const segments = pathSegments(path);
    const found = candidatesOf(segments);
    let candidates = 0;
    let examined = 0;
    let match: OwnersMatch = NO_MATCH;
    let previous = -1;
    for (const index of found) {
      if (index === previous) continue; // a rule offered twice (two path segments hit its key)
      previous = index;
      candidates++;
      if (match !== NO_MATCH) continue;
      examined++;
      const compiled = rules[index];
      if (compiled !== undefined && patternMatches(compiled.pattern, segments))
        match = matchOf(compiled.rule);
    }
    return { match: match === NO_MATCH ? { owners: [], line: null } : match, candidates, examined };
  }

  return {
    ruleCount: rules.length,
    lookup,
    ownersOf: (path) => lookup(path).match,
  };
}

/**
 * The reference matcher: every rule, from the last line up, first match wins. Same semantics as
 * compileCodeowners with no index; the differential tests hold the two equal.
 */
export function compileCodeownersNaive(parsed: ParsedCodeowners): CodeownersMatcher {
  const rules = compileRules(parsed);
  return {
    ownersOf(path) {
      const segments = pathSegments(path);
      for (let index = rules.length - 1; index >= 0; index--) {
        const compiled = rules[index];
        if (compiled !== undefined && patternMatches(compiled.pattern, segments))
          return matchOf(compiled.rule);
      }
      return { owners: [], line: null };
    },
  };
}
