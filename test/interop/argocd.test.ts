/**
 * Argo CD's check (docs/agents.md, "Argo CD"): with signature verification on, the repo-server runs
 * `git verify-commit --raw` against a GnuPG keyring holding the keys of argocd-gpg-keys-cm and
 * accepts the commit when the signature is good and its key ID is in the AppProject's
 * signatureKeys. Here: a fresh GNUPGHOME with only the app's key, on the same records as the Flux
 * oracle (test/interop/cases.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { removeDir, tempDir } from "../record/helpers.js";
import { buildWorld, type InteropWorld } from "./cases.js";
import { argoVerify } from "./oracles.js";

describe("Argo CD's commit verification (git verify-commit, app key only) on pullgate records", () => {
  let root: string;
  let world: InteropWorld;
  beforeAll(async () => {
    root = tempDir("argocd");
    world = await buildWorld(root);
  }, 300_000);
  afterAll(() => {
    for (const dir of [root, world.gnupgApp, world.gnupgLegacy]) removeDir(dir);
  });

  /** Argo CD's decision: a good signature AND the signing key is in the AppProject's signatureKeys. */
  const argo = (sha: string, home: string, signatureKeys: string[]) => {
    const result = argoVerify(world.bare, sha, home);
    const keyId = result.validsig?.slice(-16) ?? null;
    return result.ok && keyId !== null && signatureKeys.includes(keyId);
  };
  const appKeyId = () => world.app.fingerprint.slice(-16);

  it("accepts genuine records, refreshes and records made by earlier versions", async () => {
    const { cases } = world;
    for (const c of [cases.genuine, cases.refresh, cases.landingAfterRefresh, cases.appClockAheadBackdated]) {
      expect(argo(c.sha, world.gnupgApp, [appKeyId()]), c.name).toBe(true);
    }
    const legacyKeyId = (
      /^\[GNUPG:\] VALIDSIG ([0-9A-F]{40})/m.exec(
        argoVerify(world.bare, cases.legacy.sha, world.gnupgLegacy).status,
      )?.[1] ?? ""
    ).slice(-16);
    expect(argo(cases.legacy.sha, world.gnupgLegacy, [legacyKeyId])).toBe(true);
  });

  it("refuses a record signed by another key, a tampered message and an unsigned commit", () => {
    const { cases } = world;
    for (const c of [cases.otherKey, cases.tampered, cases.unsigned]) {
      expect(argo(c.sha, world.gnupgApp, [appKeyId()]), c.name).toBe(false);
      expect(argoVerify(world.bare, c.sha, world.gnupgApp).ok, c.name).toBe(false);
    }
    // A genuine record is refused when the AppProject does not list its key.
    expect(argo(cases.genuine.sha, world.gnupgApp, [world.other.fingerprint.slice(-16)])).toBe(false);
  });

  it("GnuPG, unlike go-crypto, accepts a signature from 60 s in the future (the app clock ahead)", () => {
    // Recorded so that the clock contract names the strict verifier (Flux) and not Argo CD.
    expect(argo(world.cases.appClockAheadNotBackdated.sha, world.gnupgApp, [appKeyId()])).toBe(true);
  });
});
