import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mergeQueueParametersError } from "./rule.js";

const RANGES: Record<string, [number, number]> = {
  check_response_timeout_minutes: [1, 360],
  max_entries_to_build: [0, 100],
  max_entries_to_merge: [0, 100],
  min_entries_to_merge: [0, 100],
  min_entries_to_merge_wait_minutes: [0, 360],
};

describe("merge_queue rule parameters", () => {
  it("accepts GitHub's full parameter set and an empty one (defaults apply)", () => {
    expect(
      mergeQueueParametersError({
        check_response_timeout_minutes: 60,
        grouping_strategy: "HEADGREEN",
        max_entries_to_build: 5,
        max_entries_to_merge: 5,
        merge_method: "SQUASH",
        min_entries_to_merge: 1,
        min_entries_to_merge_wait_minutes: 5,
      }),
    ).toBeNull();
    expect(mergeQueueParametersError(undefined)).toBeNull();
    expect(mergeQueueParametersError({})).toBeNull();
  });

  it("accepts exactly the integers inside each documented range", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(RANGES)),
        fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.double(), fc.string(), fc.constant(null)),
        (name, value) => {
          const [min, max] = RANGES[name] ?? [0, 0];
          const valid = typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
          const error = mergeQueueParametersError({ [name]: value });
          expect(error === null).toBe(valid);
          if (!valid) expect(error).toContain(`${name} must be an integer between ${min} and ${max}`);
        },
      ),
    );
  });

  it("refuses unknown enum values and unknown parameters", () => {
    expect(mergeQueueParametersError({ merge_method: "merge" })).toBe(
      "Invalid rule 'merge_queue': merge_method must be one of MERGE, SQUASH, REBASE",
    );
    expect(mergeQueueParametersError({ grouping_strategy: "SOMEGREEN" })).toContain(
      "grouping_strategy must be one of ALLGREEN, HEADGREEN",
    );
    expect(mergeQueueParametersError({ bypass: true })).toBe(
      "Invalid rule 'merge_queue': unknown parameter bypass",
    );
  });
});
