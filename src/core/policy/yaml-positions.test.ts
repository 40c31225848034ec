import fc from "fast-check";
import yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { joinPointer, loadYamlWithPositions } from "./yaml-positions.js";

function load(text: string) {
  const result = loadYamlWithPositions(text);
  if (!result.ok) throw new Error(result.message);
  return result.positions;
}

describe("loadYamlWithPositions", () => {
  const text = `# comment
a: 1
b:
  c: [x, "y"]   # trailing
  d:
    - e: 2
      f: |
        block
    -   g
h: {i: {j: k}}
"quoted key": v
1: one
`;
  const positions = load(text);

  it.each([
    ["", 2, 1],
    ["/a", 2, 4],
    ["/b", 4, 3],
    ["/b/c", 4, 6],
    ["/b/c/0", 4, 7],
    ["/b/c/1", 4, 10],
    ["/b/d", 6, 5],
    ["/b/d/0", 6, 7],
    ["/b/d/0/e", 6, 10],
    ["/b/d/0/f", 7, 10],
    ["/b/d/1", 9, 9],
    ["/h/i/j", 10, 12],
    ["/quoted key", 11, 15],
    ["/1", 12, 4],
  ])("value %s at %i:%i", (pointer, line, column) => {
    expect(positions.valueAt(pointer)).toEqual({ line, column });
  });

  it.each([
    ["/a", 2, 1],
    ["/b/c", 4, 3],
    ["/b/d/0/f", 7, 7],
    ["/h/i", 10, 5],
    ["/quoted key", 11, 1],
  ])("key %s at %i:%i", (pointer, line, column) => {
    expect(positions.keyAt(pointer)).toEqual({ line, column });
  });

  it("places unknown pointers at their nearest known ancestor", () => {
    expect(positions.valueAt("/b/c/7")).toEqual({ line: 4, column: 6 });
    expect(positions.valueAt("/nope/deeper")).toEqual({ line: 2, column: 1 });
  });

  it("escapes pointer tokens (RFC 6901)", () => {
    const p = load('"a/b": {"~c": 1}\n');
    expect(p.valueAt("/a~1b/~0c")).toEqual({ line: 1, column: 15 });
  });

  it("reports syntax errors with js-yaml's mark, 1-based", () => {
    const result = loadYamlWithPositions("a: 1\n  b: 2\n");
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.position).toEqual({ line: 2, column: 4 });
  });

  it("refuses aliases (alias bombs) and points at the first one", () => {
    const result = loadYamlWithPositions("a: &x [1, 2]\nb: [*x, *x]\n");
    expect(result).toEqual({
      ok: false,
      message: "YAML aliases (*name) are not allowed in a policy: write the value out",
      position: { line: 2, column: 5 },
    });
  });

  it("does not know merge keys (CORE schema): `<<` is an ordinary key", () => {
    const result = loadYamlWithPositions("a: {x: 1}\nb:\n  <<: {y: 2}\n");
    expect(result.ok && (result.value as { b: Record<string, unknown> }).b).toEqual({ "<<": { y: 2 } });
  });
});

describe("loadYamlWithPositions (property)", () => {
  const key = fc.stringMatching(/^[a-z][a-z0-9_]{0,7}$/);
  const leaf = fc.oneof(
    fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/),
    fc.integer({ min: -999, max: 999 }),
    fc.boolean(),
  );
  const tree = fc.letrec<{ node: unknown }>((tie) => ({
    node: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      leaf,
      fc.array(tie("node"), { maxLength: 4 }),
      fc.dictionary(key, tie("node"), { maxKeys: 4 }),
    ),
  })).node;

  function leaves(value: unknown, pointer: string, out: [string, unknown][]): [string, unknown][] {
    if (Array.isArray(value)) value.forEach((item, i) => leaves(item, joinPointer(pointer, i), out));
    else if (value !== null && typeof value === "object")
      Object.entries(value).forEach(([k, v]) => leaves(v, joinPointer(pointer, k), out));
    else out.push([pointer, value]);
    return out;
  }

  function offsetOf(text: string, line: number, column: number): number {
    const lines = text.split("\n");
    return lines.slice(0, line - 1).reduce((sum, l) => sum + l.length + 1, 0) + column - 1;
  }

  it.each([
    ["block style", -1],
    ["flow style", 0],
    ["mixed style", 1],
  ])("places every scalar of a dumped document exactly where it is written (%s)", (_, flowLevel) => {
    fc.assert(
      fc.property(fc.dictionary(key, tree, { minKeys: 1, maxKeys: 5 }), (value) => {
        const text = yaml.dump(value, { flowLevel });
        const result = loadYamlWithPositions(text);
        if (!result.ok) throw new Error(result.message);
        for (const [pointer, scalar] of leaves(value, "", [])) {
          const at = result.positions.valueAt(pointer);
          const written = String(scalar);
          const found = text.slice(offsetOf(text, at.line, at.column));
          // js-yaml quotes strings that would read as another type ('true', '12').
          expect(
            [written, `'${written}'`].some((w) => found.startsWith(w)),
            `${pointer} at ${at.line}:${at.column}`,
          ).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });
});
