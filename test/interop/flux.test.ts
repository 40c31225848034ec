/**
 * Flux proven, not claimed (docs/agents.md, "Flux"): the verification Flux's source-controller runs
 * on a GitRepository with spec.verify (go-git's Commit.Verify with ProtonMail's go-crypto), built
 * from test/interop/flux-verify, on genuine records (accepted) and on records signed by another
 * key, tampered messages and unsigned commits (refused); the clock contract (go-crypto refuses a
 * signature made after its own clock: records are backdated, src/record/time.ts); and how each
 * Secret value is read as a key ring, agreed with `pullgate verify` and `pullgate verify-commit`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { main } from "../../src/cli/main.js";
import { removeDir, tempDir } from "../record/helpers.js";
import { buildWorld, type InteropWorld } from "./cases.js";
import { buildFluxVerify, fluxOracleUnavailable, fluxVerify, warnSkipped } from "./oracles.js";

const unavailable = fluxOracleUnavailable();
if (unavailable !== null) warnSkipped("The Flux oracle test (test/interop/flux.test.ts)", unavailable);

describe.skipIf(unavailable !== null)(
  "Flux's commit verification (go-git + go-crypto) on pullgate records",
  () => {
    let root: string;
    let world: InteropWorld;
    let binary: string;
    beforeAll(async () => {
      root = tempDir("flux");
      world = await buildWorld(root);
      binary = buildFluxVerify();
    }, 300_000);
    afterAll(() => {
      for (const dir of [root, world.gnupgApp, world.gnupgLegacy]) removeDir(dir);
    });

    const flux = (sha: string, keyRings: string[]) => fluxVerify(binary, world.bare, sha, keyRings);

    it("accepts genuine records, refreshes and records made by earlier versions, naming the app's key", async () => {
      const { cases, keyRings, app } = world;
      for (const c of [cases.genuine, cases.refresh, cases.landingAfterRefresh]) {
        expect(flux(c.sha, [keyRings.app]), c.name).toMatchObject({
          verified: true,
          signer: app.fingerprint,
        });
        expect(await world.pullgate(c), c.name).toBe("accepted");
      }
      expect(flux(cases.legacy.sha, [keyRings.legacy]).verified).toBe(true);
      expect(await world.pullgate(cases.legacy)).toBe("accepted");
    });

    it("refuses a record signed by another key, a tampered message and an unsigned commit", async () => {
      const { cases, keyRings } = world;
      const other = flux(cases.otherKey.sha, [keyRings.app]);
      expect(other.verified).toBe(false);
      expect(other.errors.join()).toMatch(/signature made by unknown entity/);
      const tampered = flux(cases.tampered.sha, [keyRings.app]);
      expect(tampered.verified).toBe(false);
      expect(tampered.errors.join()).toMatch(/invalid signature/i);
      const unsigned = flux(cases.unsigned.sha, [keyRings.app]);
      expect(unsigned.verified).toBe(false);
      expect(unsigned.errors.join()).toMatch(/EOF|no armored data/i);
      expect(await world.pullgate(cases.otherKey)).toBe("UNKNOWN_KEY");
      expect(await world.pullgate(cases.tampered)).toBe("SIGNATURE_INVALID");
      expect(await world.pullgate(cases.unsigned)).toBe("UNSIGNED");
      // The record signed by the other key is genuine for that key: the oracle is not refusing everything.
      expect(flux(cases.otherKey.sha, [keyRings.other]).verified).toBe(true);
    });

    it("clock contract: an app clock 60 s ahead fails Flux unless the record is backdated (recordIssuedAt)", async () => {
      const { cases, keyRings } = world;
      const ahead = flux(cases.appClockAheadNotBackdated.sha, [keyRings.app]);
      expect(ahead.verified).toBe(false);
      expect(ahead.errors.join()).toMatch(/signature expired/);
      // pullgate tolerates the skew, Flux does not: why the app dates records in the past.
      expect(await world.pullgate(cases.appClockAheadNotBackdated)).toBe("accepted");
      expect(flux(cases.appClockAheadBackdated.sha, [keyRings.app]).verified).toBe(true);
      expect(await world.pullgate(cases.appClockAheadBackdated)).toBe("accepted");
    });

    it("one key per Secret value: Flux, pullgate verify and verify-commit read the same keys", async () => {
      const { cases, keyRings, other } = world;
      const otherSigned = cases.otherKey;
      const appSigned = cases.genuine;
      const read = (path: string) => [readFileSync(path, "utf8")];
      // Two concatenated armored blocks: only the first counts, for all three.
      expect(flux(appSigned.sha, [keyRings.concatenated]).verified).toBe(true);
      expect(flux(otherSigned.sha, [keyRings.concatenated]).verified).toBe(false);
      expect(flux(appSigned.sha, [keyRings.concatenatedReversed]).verified).toBe(false);
      expect(await world.pullgate(appSigned, read(keyRings.concatenated))).toBe("accepted");
      expect(await world.pullgate(otherSigned, read(keyRings.concatenated))).toBe("UNKNOWN_KEY");
      expect(await world.pullgate(appSigned, read(keyRings.concatenatedReversed))).toBe("UNKNOWN_KEY");
      // One armored block with both keys (gpg --export --armor A B), or one value per key: both count.
      expect(flux(otherSigned.sha, [keyRings.oneBlockBoth]).verified).toBe(true);
      expect(flux(appSigned.sha, [keyRings.oneBlockBoth]).verified).toBe(true);
      expect(await world.pullgate(otherSigned, read(keyRings.oneBlockBoth))).toBe("accepted");
      expect(flux(otherSigned.sha, [keyRings.app, keyRings.other])).toMatchObject({
        verified: true,
        keyIndex: 1,
        signer: other.fingerprint,
      });
      expect(await world.pullgate(otherSigned, [...read(keyRings.app), ...read(keyRings.other)])).toBe(
        "accepted",
      );

      // pullgate verify-commit: the same verdicts, and a warning that the second block is ignored.
      const verifyCommit = async (keys: string, sha: string) => {
        const err: string[] = [];
        const code = await main(["verify-commit", "--repo", world.bare, "--keys", keys, sha], {
          stdout: () => undefined,
          stderr: (t) => err.push(t),
          env: process.env,
          cwd: root,
        });
        return { code, err: err.join("\n") };
      };
      expect((await verifyCommit(keyRings.concatenated, appSigned.sha)).code).toBe(0);
      const refused = await verifyCommit(keyRings.concatenated, otherSigned.sha);
      expect(refused.code).toBe(1);
      expect(refused.err).toMatch(/holds 2 armored key blocks; only the first is read/);
      expect((await verifyCommit(keyRings.oneBlockBoth, otherSigned.sha)).code).toBe(0);

      // pullgate verify (approved/production is record #3, signed by the app): the refusal names the
      // ignored block, so an operator sees why a key "in the file" is not trusted.
      const verify = async (keys: string) => {
        const err: string[] = [];
        const code = await main(
          ["verify", "--repo", world.bare, "--environment", "production", "--keys", keys],
          {
            stdout: () => undefined,
            stderr: (t) => err.push(t),
            env: process.env,
            cwd: root,
          },
        );
        return { code, err: err.join("\n") };
      };
      expect((await verify(keyRings.concatenated)).code).toBe(0);
      const reversed = await verify(keyRings.concatenatedReversed);
      expect(reversed.code).toBe(1);
      expect(reversed.err).toMatch(/UNKNOWN_KEY.*after its first armored block/);
      expect(flux(cases.landingAfterRefresh.sha, [keyRings.concatenatedReversed]).verified).toBe(false);
    });
  },
);
