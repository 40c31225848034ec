/**
 * What a demo step saw, and whether it was what the step expected. A step is ok only if every
 * expectation held: the demo asserts its own story rather than printing what it hoped for.
 */
export class Observations {
  private readonly facts: string[] = [];
  private readonly failures: string[] = [];

  /** Something that happened, for the narration. */
  note(fact: string): void {
    this.facts.push(fact);
  }

  /** Records a failure (with what was expected) unless `holds`. */
  expect(holds: boolean, expected: string): boolean {
    if (!holds) this.failures.push(expected);
    return holds;
  }

  fail(reason: string): void {
    this.failures.push(reason);
  }

  get ok(): boolean {
    return this.failures.length === 0;
  }

  detail(): string {
    const seen = this.facts.join("; ");
    if (this.failures.length === 0) return seen;
    return `${seen}${seen ? ". " : ""}NOT AS EXPECTED: ${this.failures.join("; ")}`;
  }
}
