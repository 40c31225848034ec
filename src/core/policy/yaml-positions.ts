import yaml from "js-yaml";

/** A 1-based place in a text file. */
export interface Position {
  line: number;
  column: number;
}

/**
 * Where each node of a loaded YAML document starts, keyed by JSON pointer ("/branches/0/reviews").
 * `keyAt` is where the mapping key of that pointer starts (for "unknown key" errors); `valueAt` is
 * where its value starts. Both fall back to the nearest ancestor that has a known position, so a
 * pointer is always placed somewhere sensible (aliases and odd YAML constructs have no children).
 */
export class PositionMap {
  constructor(
    private readonly values: ReadonlyMap<string, Position>,
    private readonly keys: ReadonlyMap<string, Position>,
  ) {}

  valueAt(pointer: string): Position {
    for (let p: string | null = pointer; p !== null; p = parentPointer(p)) {
      const found = this.values.get(p);
      if (found !== undefined) return found;
    }
    return { line: 1, column: 1 };
  }

  keyAt(pointer: string): Position {
    return this.keys.get(pointer) ?? this.valueAt(pointer);
  }

  /** True when the pointer itself (not an ancestor) was written in the file. */
  has(pointer: string): boolean {
    return this.values.has(pointer);
  }
}

export function parentPointer(pointer: string): string | null {
  if (pointer === "") return null;
  return pointer.slice(0, pointer.lastIndexOf("/"));
}

export function escapePointerToken(token: string): string {
  return token.replace(/~/g, "~0").replace(/\//g, "~1");
}

export function joinPointer(base: string, ...tokens: (string | number)[]): string {
  return base + tokens.map((t) => "/" + escapePointerToken(String(t))).join("");
}

export type YamlLoadResult =
  { ok: true; value: unknown; positions: PositionMap } | { ok: false; message: string; position: Position };

interface Frame {
  start: number;
  children: ComposedNode[];
}

interface ComposedNode {
  start: number;
  kind: string | null;
  result: unknown;
  children: ComposedNode[];
}

/**
 * Loads one YAML document with js-yaml's CORE schema (no custom types, no timestamps, no merge
 * keys) and maps every node to its position. js-yaml has no AST, but its `listener` reports an
 * "open" and a "close" event around every node it composes, so nesting the events rebuilds the
 * tree: a mapping's children alternate key, value; a sequence's children are its items.
 *
 * Aliases are refused: a policy has no use for them, and an alias bomb would make validation
 * walk an exponentially large value.
 */
export function loadYamlWithPositions(input: string): YamlLoadResult {
  // js-yaml drops a leading BOM itself, which would shift every offset by one: drop it first.
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const lines = lineStarts(text);
  const root: Frame = { start: 0, children: [] };
  const stack: Frame[] = [root];
  let aliasAt: number | null = null;
  let value: unknown;
  try {
    value = yaml.load(text, {
      schema: yaml.CORE_SCHEMA,
      json: false,
      listener(event, state) {
        if (event === "open") {
          stack.push({ start: state.position, children: [] });
          return;
        }
        const frame = stack.pop();
        const parent = stack[stack.length - 1];
        if (frame === undefined || parent === undefined) return;
        const kind = typeof state.kind === "string" ? state.kind : null;
        // An alias is a node that produced a value without being a scalar, mapping or sequence.
        if (kind === null && state.result !== null && state.result !== undefined && aliasAt === null) {
          aliasAt = skipSpaceAndComments(text, frame.start);
        }
        parent.children.push({ start: frame.start, kind, result: state.result, children: frame.children });
      },
    });
  } catch (error) {
    if (error instanceof yaml.YAMLException) {
      const mark = error.mark as { line?: number; column?: number } | undefined;
      return {
        ok: false,
        message: `YAML syntax error: ${error.reason || error.message}`,
        position: { line: (mark?.line ?? 0) + 1, column: (mark?.column ?? 0) + 1 },
      };
    }
    return { ok: false, message: `YAML error: ${String(error)}`, position: { line: 1, column: 1 } };
  }
  if (aliasAt !== null) {
    return {
      ok: false,
      message: "YAML aliases (*name) are not allowed in a policy: write the value out",
      position: toPosition(lines, aliasAt),
    };
  }
  const values = new Map<string, Position>();
  const keys = new Map<string, Position>();
  const document = root.children[0];
  if (document !== undefined) record(document, "", text, lines, values, keys);
  return { ok: true, value, positions: new PositionMap(values, keys) };
}

function record(
  node: ComposedNode,
  pointer: string,
  text: string,
  lines: number[],
  values: Map<string, Position>,
  keys: Map<string, Position>,
): void {
  // js-yaml sometimes composes one collection through two nested calls (a flow collection at the
  // top of a document): the outer node's only child is the same object. Look through the wrapper.
  let inner = node;
  while (inner.children.length === 1 && typeof inner.result === "object" && inner.result !== null) {
    const only = inner.children[0];
    if (only === undefined || only.result !== inner.result) break;
    inner = only;
  }
  values.set(pointer, toPosition(lines, skipSpaceAndComments(text, inner.start)));
  const { result, children } = inner;
  if (Array.isArray(result)) {
    // A block sequence item that is empty ("- ") is stored without composing a node, so the
    // counts differ; then the items have no positions of their own (they fall back to the list).
    if (children.length !== result.length) return;
    children.forEach((child, index) => record(child, joinPointer(pointer, index), text, lines, values, keys));
    return;
  }
  if (result !== null && typeof result === "object") {
    if (children.length !== 2 * Object.keys(result).length) return;
    for (let i = 0; i + 1 < children.length; i += 2) {
      const keyNode = children[i];
      const valueNode = children[i + 1];
      if (keyNode === undefined || valueNode === undefined) continue;
      const childPointer = joinPointer(pointer, String(keyNode.result));
      keys.set(childPointer, toPosition(lines, skipSpaceAndComments(text, keyNode.start)));
      record(valueNode, childPointer, text, lines, values, keys);
    }
  }
}

/** js-yaml opens a node before skipping the separation space before it: skip blanks and comments. */
function skipSpaceAndComments(text: string, from: number): number {
  let i = from;
  while (i < text.length) {
    const c = text[i];
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
    } else if (c === "#" && (i === 0 || /\s/.test(text[i - 1] ?? " "))) {
      while (i < text.length && text[i] !== "\n") i++;
    } else {
      break;
    }
  }
  return Math.min(i, Math.max(0, text.length));
}

function lineStarts(text: string): number[] {
  const starts = [0];
  // YAML line breaks are \n, \r\n and a lone \r (as js-yaml counts them in its marks).
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\n" || (text[i] === "\r" && text[i + 1] !== "\n")) starts.push(i + 1);
  }
  return starts;
}

function toPosition(starts: number[], offset: number): Position {
  // Binary search for the last line start <= offset.
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] ?? 0) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - (starts[lo] ?? 0) + 1 };
}
