/**
 * vitest setup file: after each test, every running test sandbox's contract violations (a request
 * GitHub has no operation for, an invalid body or query, a response or webhook GitHub's schema
 * refuses: sandbox/src/contract/) fail that test. A test that provokes one on purpose takes it with
 * `t.takeViolations()` and asserts it.
 */
import { afterEach } from "vitest";
import { describeViolations, liveSandboxes } from "../../src/testing/harness.js";

afterEach(() => {
  const found = [...liveSandboxes].flatMap((t) => t.takeViolations());
  if (found.length > 0)
    throw new Error(`the sandbox recorded GitHub contract violations:\n${describeViolations(found)}`);
});
