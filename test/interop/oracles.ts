/**
 * The verifiers Flux and Argo CD run on a record, as test oracles (docs/agents.md):
 *
 * - Flux: test/interop/flux-verify (go-git's Commit.Verify with ProtonMail's go-crypto), built
 *   offline from Debian's packages (golang-go, golang-github-go-git-go-git-dev,
 *   golang-github-protonmail-go-crypto-dev; .ci/run installs them), once per source hash, into a
 *   cache under the temp dir;
 * - Argo CD: `git verify-commit --raw` with only the pinned key imported into a fresh GNUPGHOME.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SOURCE_DIR = join(__dirname, "flux-verify");
const GOCODE = "/usr/share/gocode";
const REQUIRED_SOURCES = [
  join(GOCODE, "src/github.com/go-git/go-git/go.mod"),
  join(GOCODE, "src/github.com/ProtonMail/go-crypto/openpgp/read.go"),
];

/** Why the Flux oracle cannot run here, or null when Go and Debian's go-git sources are present. */
export function fluxOracleUnavailable(): string | null {
  const go = spawnSync("go", ["version"], { encoding: "utf8" });
  if (go.error !== undefined || go.status !== 0) return "the go command is not installed";
  const missing = REQUIRED_SOURCES.filter((path) => !existsSync(path));
  if (missing.length > 0) return `Debian's Go sources are missing (${missing.join(", ")})`;
  return null;
}

/** Prints the loud skip message vitest alone would not show. */
export function warnSkipped(what: string, why: string): void {
  const line = "!".repeat(100);
  console.warn(
    `\n${line}\n!! ${what} SKIPPED: ${why}.\n!! Install golang-go golang-github-go-git-go-git-dev ` +
      `golang-github-protonmail-go-crypto-dev (.ci/run does) to run it.\n${line}\n`,
  );
}

/** Builds flux-verify (or reuses the cached binary for the same sources and Go) and returns its path. */
export function buildFluxVerify(): string {
  const goVersion = execFileSync("go", ["version"], { encoding: "utf8" });
  const hash = createHash("sha256");
  for (const name of ["main.go", "go.mod"]) hash.update(readFileSync(join(SOURCE_DIR, name)));
  hash.update(goVersion);
  for (const path of REQUIRED_SOURCES) hash.update(readFileSync(path));
  const cacheDir = join(tmpdir(), `pullgate-flux-verify-${hash.digest("hex").slice(0, 16)}`);
  const binary = join(cacheDir, "flux-verify");
  if (existsSync(binary)) return binary;

  mkdirSync(cacheDir, { recursive: true });
  // A throwaway GOPATH entry holding the program, before Debian's: GOPATH mode, nothing fetched.
  const work = mkdtempSync(join(cacheDir, "build-"));
  try {
    const pkg = join(work, "src", "fluxverify");
    mkdirSync(pkg, { recursive: true });
    for (const name of ["main.go", "go.mod"])
      writeFileSync(join(pkg, name), readFileSync(join(SOURCE_DIR, name)));
    const output = join(work, "flux-verify");
    execFileSync("go", ["build", "-o", output, "."], {
      cwd: pkg,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        GOPATH: `${work}:${GOCODE}`,
        GO111MODULE: "off",
        GOFLAGS: "",
        GOPROXY: "off",
        GOTOOLCHAIN: "local",
        GOCACHE: join(cacheDir, "gocache"),
      },
    });
    // rename is atomic: a concurrent build of the same sources just replaces an identical file.
    renameSync(output, binary);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return binary;
}

export interface FluxVerdict {
  verified: boolean;
  signer?: string;
  keyIndex: number;
  errors: string[];
}

/** Runs flux-verify on `sha` in `repoDir` with one key ring file per Secret value. */
export function fluxVerify(
  binary: string,
  repoDir: string,
  sha: string,
  keyRingFiles: string[],
): FluxVerdict {
  const run = spawnSync(binary, [repoDir, sha, ...keyRingFiles], { encoding: "utf8" });
  if (run.status !== 0 && run.status !== 1) {
    throw new Error(`flux-verify failed (${run.status}): ${run.stderr}`);
  }
  const verdict = JSON.parse(run.stdout) as FluxVerdict;
  if (verdict.verified !== (run.status === 0))
    throw new Error("flux-verify: exit status and verdict disagree");
  return verdict;
}

/** Argo CD's check: `git verify-commit --raw` against a GNUPGHOME holding only `gnupgHome`'s keys. */
export function argoVerify(
  repoDir: string,
  sha: string,
  gnupgHome: string,
): { ok: boolean; validsig: string | null; status: string } {
  const run = spawnSync("git", ["verify-commit", "--raw", sha], {
    cwd: repoDir,
    encoding: "utf8",
    env: { ...process.env, GNUPGHOME: gnupgHome, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" },
  });
  const validsig = /^\[GNUPG:\] VALIDSIG ([0-9A-F]{40})/m.exec(run.stderr)?.[1] ?? null;
  return { ok: run.status === 0, validsig, status: run.stderr };
}
