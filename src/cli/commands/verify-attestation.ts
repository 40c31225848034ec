import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { readKeyringPath } from "../../agent/keyring.js";
import { DsseError } from "../../record/attest/dsse.js";
import { verifyAttestation } from "../../record/attest/vsa.js";
import { parseCommandArgs, requireOption } from "../args.js";
import type { Command } from "../command.js";
import { EXIT_FAILURE, EXIT_OK, IoError, UsageError } from "../errors.js";
import { printJson } from "../io.js";

export const command: Command = {
  usage: "verify-attestation --keys PATH [--commit SHA] [--json] FILE",
  summary:
    "Verify a `pullgate attest` DSSE envelope (signature over PAE by a pinned key, in-toto VSA); exit 1 unless PASSED",
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, {
      keys: { type: "string" },
      commit: { type: "string" },
    });
    if (positionals.length !== 1) throw new UsageError("give exactly one attestation FILE");
    const path = (p: string) => (isAbsolute(p) ? p : resolve(io.cwd, p));
    const commit = values.commit;
    if (commit !== undefined && !/^[0-9a-f]{40}$/.test(commit)) {
      throw new UsageError("--commit must be a full 40-hex commit SHA");
    }
    let keyring: string[];
    let envelope: unknown;
    try {
      keyring = await readKeyringPath(path(requireOption(values.keys, "keys")));
      envelope = JSON.parse(await readFile(path(positionals[0] ?? ""), "utf8"));
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new IoError(error instanceof Error ? error.message : String(error));
    }
    const refuse = (reason: string) => {
      if (values.json) printJson(io, { verified: false, reason });
      io.stderr(`pullgate verify-attestation: REFUSED: ${reason}`);
      return EXIT_FAILURE;
    };
    let verified;
    try {
      verified = await verifyAttestation(envelope, keyring);
    } catch (error) {
      if (error instanceof DsseError) return refuse(error.message);
      throw error;
    }
    const { statement, signer } = verified;
    const subjectCommits = statement.subject.flatMap((s) =>
      typeof s.digest?.gitCommit === "string" ? [s.digest.gitCommit] : [],
    );
    if (commit !== undefined && !subjectCommits.includes(commit)) {
      return refuse(`the attestation is about ${subjectCommits.join(", ") || "no commit"}, not ${commit}`);
    }
    const result = statement.predicate.verificationResult;
    const summary = {
      verified: result === "PASSED",
      signer,
      subject: subjectCommits,
      verificationResult: result,
      verifiedLevels: statement.predicate.verifiedLevels,
      resourceUri: statement.predicate.resourceUri,
      timeVerified: statement.predicate.timeVerified,
    };
    if (values.json) printJson(io, summary);
    else {
      io.stdout(
        `${result === "PASSED" ? "verified" : "signature valid, but the attestation says"} ${result}: ` +
          `${subjectCommits.join(", ")} (${summary.verifiedLevels.join(", ")}), signed by ${signer}, ` +
          `verified at ${summary.timeVerified}`,
      );
    }
    return result === "PASSED" ? EXIT_OK : EXIT_FAILURE;
  },
};
