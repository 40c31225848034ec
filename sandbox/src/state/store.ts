import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SandboxState } from "./types.js";

/** GitHub's timestamp format: ISO 8601 UTC without milliseconds. */
export function isoNow(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function emptyState(app: SandboxState["app"]): SandboxState {
  return {
    version: 1,
    nextId: 1000,
    app,
    users: {},
    orgs: {},
    teams: {},
    repos: {},
    installations: {},
    tokens: {},
    issues: {},
    pulls: {},
    nextNumber: {},
    comments: {},
    reviews: {},
    checkSuites: {},
    checkRuns: {},
    statuses: {},
    protections: {},
    rulesets: {},
    gpgKeys: {},
    sshSigningKeys: {},
  };
}

/**
 * In-memory state, persisted to `dir/state.json` after every mutating request. The write is
 * atomic (temp file + rename), so a sandbox killed mid-write restarts from the previous state,
 * never from a torn file.
 */
export class StateStore {
  readonly state: SandboxState;
  private readonly file: string;
  private timer: NodeJS.Timeout | null = null;

  /**
   * `debounceMs` 0 (default): every `changed()` writes at once. Above 0: writes are coalesced to
   * at most one per interval (benchmarks with large states), `flush()` forces the write.
   */
  constructor(
    dir: string,
    initialApp: () => SandboxState["app"],
    private readonly debounceMs = 0,
  ) {
    this.file = join(dir, "state.json");
    if (existsSync(this.file)) {
      const loaded = JSON.parse(readFileSync(this.file, "utf8")) as SandboxState;
      if (loaded.version !== 1)
        throw new Error(`${this.file}: unsupported state version ${String(loaded.version)}`);
      this.state = loaded;
    } else {
      this.state = emptyState(initialApp());
      this.persist();
    }
  }

  /** A fresh id; ids are unique across every kind of object (GitHub's are unique per kind). */
  nextId(): number {
    return this.state.nextId++;
  }

  /** A mutation happened: persist now, or soon when debounced. */
  changed(): void {
    if (this.debounceMs <= 0) {
      this.persist();
      return;
    }
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.persist();
    }, this.debounceMs);
    this.timer.unref();
  }

  /** Writes any pending change now. */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.persist();
  }

  persist(): void {
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(this.state));
    renameSync(temp, this.file);
  }
}
