import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import type * as openpgp from "openpgp";
import { resolveTarget } from "../../agent/target.js";
import { buildSummaryStatement, signStatement } from "../../record/attest/vsa.js";
import { RecordVerificationError } from "../../record/errors.js";
import { fingerprintOf, loadSigningKey } from "../../record/keys.js";
import { parseCommandArgs, requireOption } from "../args.js";
import type { Command } from "../command.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, IoError, UsageError } from "../errors.js";
import { printJson } from "../io.js";
import { readHistory, type HistoryEntry } from "./history.js";

const OPTIONS = {
  repo: { type: "string" },
  environment: { type: "string" },
  key: { type: "string" },
  "passphrase-file": { type: "string" },
  keys: { type: "string" },
  sequence: { type: "string" },
  commit: { type: "string" },
  out: { type: "string" },
  "max-age": { type: "string" },
  "refresh-interval": { type: "string" },
  repository: { type: "string" },
  "server-url": { type: "string" },
} as const;

export const command: Command = {
  usage:
    "attest --repo URL|DIR --environment ENV --key SIGNING_KEY [--passphrase-file FILE] [--keys PATH] " +
    "[--sequence N | --commit SHA] [--out FILE] [--max-age DUR|none] [--repository OWNER/NAME] " +
    "[--server-url URL] [--json]",
  summary: "Verify a record and emit a DSSE-signed in-toto SLSA verification summary for its source commit",
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, OPTIONS, false);
    const path = (p: string) => (isAbsolute(p) ? p : resolve(io.cwd, p));
    if (values.sequence !== undefined && values.commit !== undefined) {
      throw new UsageError("give --sequence or --commit, not both");
    }
    const sequence = values.sequence === undefined ? null : Number(values.sequence);
    if (
      sequence !== null &&
      !(Number.isSafeInteger(sequence) && sequence > 0 && /^\d+$/.test(values.sequence ?? ""))
    ) {
      throw new UsageError("--sequence must be a positive integer");
    }
    const commit = values.commit ?? null;
    if (commit !== null && !/^[0-9a-f]{40}$/.test(commit)) {
      throw new UsageError("--commit must be a full 40-hex commit SHA");
    }
    const serverUrl = (values["server-url"] ?? "https://github.com").replace(/\/+$/, "");
    if (!/^https?:\/\/[^\s@/]+(?:\/[^\s@]*)?$/.test(serverUrl)) {
      throw new UsageError("--server-url must be an http(s) URL without credentials");
    }
    const signingKey = await readSigningKey(
      path(requireOption(values.key, "key")),
      values["passphrase-file"] === undefined ? undefined : path(values["passphrase-file"]),
    );

    // Records are verified against --keys when given (e.g. after a key rotation), otherwise
    // against the public half of the signing key: the record key signs both.
    const scratch = await mkdtemp(join(tmpdir(), "pullgate-attest-"));
    try {
      let keys = values.keys;
      if (keys === undefined) {
        keys = join(scratch, "public.asc");
        await writeFile(keys, signingKey.toPublic().armor());
      }
      const target = await resolveTarget(
        {
          repo: requireOption(values.repo, "repo"),
          environment: requireOption(values.environment, "environment"),
          keys,
          repository: values.repository,
          maxAge: values["max-age"],
          refreshInterval: values["refresh-interval"],
        },
        io.cwd,
      );
      if (target.maxAgeSource === "none") io.stderr(`pullgate attest: ${target.maxAgeNote}`);

      let entries: HistoryEntry[];
      try {
        entries = (await readHistory(target, io, new Date())).records;
      } catch (error) {
        if (!(error instanceof RecordVerificationError)) throw error;
        io.stderr(`pullgate attest: ${error.code}: ${error.message}`);
        return EXIT_USAGE;
      }
      const entry = pick(entries, sequence, commit);
      if (entry === undefined) {
        io.stderr(
          `pullgate attest: approved/${target.environment} has no ${
            sequence !== null ? `record #${sequence}` : commit !== null ? `record of ${commit}` : "record"
          }`,
        );
        return EXIT_FAILURE;
      }
      const fields = entry.verified ? verifiedFields(entry, target) : entry.claimed;
      if (fields === null) {
        io.stderr(
          `pullgate attest: record ${entry.recordCommit} is unreadable (${entry.failure?.code ?? ""}); nothing to attest`,
        );
        return EXIT_FAILURE;
      }
      if (entry.verified && entry.signer !== fingerprintOf(signingKey)) {
        io.stderr(
          `pullgate attest: note: record #${fields.sequence} was signed by ${entry.signer ?? "?"}, ` +
            `the attestation is signed by ${fingerprintOf(signingKey)}`,
        );
      }
      const statement = buildSummaryStatement({
        fields,
        recordCommit: entry.recordCommit,
        passed: entry.verified,
        repositoryUrl: `${serverUrl}/${target.repository}`,
        verifierVersion: await pullgateVersion(),
        timeVerified: new Date(),
      });
      const envelope = await signStatement(statement, signingKey);
      const text = JSON.stringify(envelope, null, 2) + "\n";
      if (values.out !== undefined) {
        try {
          await writeFile(path(values.out), text);
        } catch (error) {
          throw new IoError(`cannot write ${values.out}: ${(error as Error).message}`);
        }
      }
      const summary = {
        verificationResult: statement.predicate.verificationResult,
        verifiedLevels: statement.predicate.verifiedLevels,
        sequence: fields.sequence,
        sourceCommit: fields.sourceCommit,
        recordCommit: entry.recordCommit,
        out: values.out === undefined ? null : path(values.out),
        ...(entry.failure === null ? {} : { failure: entry.failure }),
      };
      if (values.out === undefined) io.stdout(text.trimEnd());
      else if (values.json) printJson(io, summary);
      else {
        io.stdout(
          `${summary.verificationResult}: record #${fields.sequence} ${entry.recordCommit} (source ${fields.sourceCommit}); ` +
            `attestation written to ${summary.out ?? ""}`,
        );
      }
      if (!entry.verified) {
        io.stderr(
          `pullgate attest: record #${fields.sequence} FAILED ${entry.failure?.code ?? ""}: ${entry.failure?.reason ?? ""}; ` +
            `the attestation says FAILED`,
        );
        return EXIT_FAILURE;
      }
      return EXIT_OK;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  },
};

/**
 * The record to attest: by sequence, by source commit (the newest record naming it), or the head.
 * A verified record wins over a failing one that claims the same sequence or commit: a forged
 * record pushed on top must not turn the genuine record's attestation into a FAILED one.
 */
function pick(
  entries: HistoryEntry[],
  sequence: number | null,
  commit: string | null,
): HistoryEntry | undefined {
  if (sequence === null && commit === null) return entries[0];
  const matches = (e: HistoryEntry): boolean => {
    const fields = e.verified ? e : e.claimed;
    if (fields === null) return false;
    return sequence !== null ? fields.sequence === sequence : fields.sourceCommit === commit;
  };
  return entries.find((e) => e.verified && matches(e)) ?? entries.find(matches);
}

/** A verified entry's fields; it verified for the target's repository and environment. */
function verifiedFields(entry: HistoryEntry, target: { repository: string; environment: string }) {
  const { sequence, sourceCommit, sourceTree, branch, policyDigest } = entry;
  if (
    sequence === null ||
    sourceCommit === null ||
    sourceTree === null ||
    branch === null ||
    policyDigest === null
  ) {
    return null;
  }
  return {
    repository: target.repository,
    environment: target.environment,
    sequence,
    sourceCommit,
    sourceTree,
    branch,
    policyDigest,
  };
}

async function readSigningKey(file: string, passphraseFile: string | undefined): Promise<openpgp.PrivateKey> {
  let armored: string;
  let passphrase: string | undefined;
  try {
    armored = await readFile(file, "utf8");
    if (passphraseFile !== undefined)
      passphrase = (await readFile(passphraseFile, "utf8")).replace(/\r?\n$/, "");
  } catch (error) {
    throw new IoError(`cannot read the signing key: ${(error as Error).message}`);
  }
  try {
    return await loadSigningKey(armored, passphrase);
  } catch (error) {
    throw new IoError(`cannot load the signing key ${file}: ${(error as Error).message}`);
  }
}

async function pullgateVersion(): Promise<string> {
  try {
    const pkg = JSON.parse(await readFile(new URL("../../../package.json", import.meta.url), "utf8")) as {
      version?: unknown;
    };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
}
