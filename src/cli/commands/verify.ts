import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { describeMarks } from "../../agent/agent.js";
import { fetchAndVerify } from "../../agent/fetch-verify.js";
import { GitCache } from "../../agent/git.js";
import { readState, StateError, writeStateAtomic } from "../../agent/state.js";
import { RecordVerificationError } from "../../record/errors.js";
import { parseCommandArgs } from "../args.js";
import type { Command } from "../command.js";
import { RECORD_TARGET_OPTIONS, recordTargetFrom } from "../record-target.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, IoError } from "../errors.js";
import { printJson } from "../io.js";

export const command: Command = {
  usage:
    "verify --repo URL|DIR --environment ENV --keys PATH [--state FILE] [--max-age DUR|none] " +
    "[--refresh-interval DUR] [--repository OWNER/NAME] [--refuse-break-glass] [--json]",
  summary:
    "Fetch approved/<ENV> and verify its newest record (signature, repository, environment, tree, sequence, age)",
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, RECORD_TARGET_OPTIONS, false);
    const target = await recordTargetFrom(values, io.cwd);
    const stateFile =
      values.state === undefined
        ? null
        : isAbsolute(values.state)
          ? values.state
          : resolve(io.cwd, values.state);

    // What this run protects against, on stderr and in the JSON document (docs/agents.md,
    // "pullgate verify"): a caller must not mistake a stateless check for rollback protection.
    // The effective max-age is in the JSON (maxAgeSeconds) and the text verdict; stderr is kept for
    // warnings, so a script that treats any stderr as trouble sees exactly the weakened runs.
    if (target.maxAgeSource === "none") io.stderr(`pullgate verify: ${target.maxAgeNote}`);
    if (stateFile === null) {
      io.stderr(
        "pullgate verify: WARNING: no --state: rollback protection is off (an older genuine record, " +
          "or a replay of the current one, would verify); pass --state FILE on persistent storage",
      );
    }
    const protection = {
      rollbackProtection: stateFile !== null,
      maxAgeSeconds: target.maxAgeMs === null ? null : target.maxAgeMs / 1000,
    };

    let state;
    try {
      state = stateFile === null ? null : await readState(stateFile);
    } catch (error) {
      if (error instanceof StateError) throw new IoError(error.message);
      throw error;
    }
    if (
      state !== null &&
      (state.repository !== target.repository || state.environment !== target.environment)
    ) {
      throw new IoError(
        `state file belongs to ${state.repository} ${state.environment}, not ${target.repository} ${target.environment}`,
      );
    }

    // With --state the fetched objects are kept beside it (next runs fetch only what is new);
    // without, a throwaway cache.
    const temporary = stateFile === null ? await mkdtemp(join(tmpdir(), "pullgate-verify-")) : null;
    const cache = new GitCache(temporary ?? `${stateFile}.git`, { ...process.env, ...io.env });
    try {
      const record = await fetchAndVerify({
        cache,
        ...target,
        lastAccepted: state === null ? null : { sequence: state.sequence, recordCommit: state.recordCommit },
        now: new Date(),
      });
      const { fields } = record;
      if (stateFile !== null && !record.unchanged) {
        try {
          await writeStateAtomic(stateFile, {
            repository: target.repository,
            environment: target.environment,
            sequence: fields.sequence,
            recordCommit: record.recordCommit,
            sourceCommit: fields.sourceCommit,
            sourceTree: fields.sourceTree,
            acceptedAt: new Date().toISOString(),
            ...(state?.deployed === undefined ? {} : { deployed: state.deployed }),
          });
        } catch (error) {
          throw new IoError(`cannot write state file ${stateFile}: ${(error as Error).message}`);
        }
      }
      const result = {
        verified: true,
        sequence: fields.sequence,
        sourceCommit: fields.sourceCommit,
        sourceTree: fields.sourceTree,
        recordCommit: record.recordCommit,
        // Present only on marked records, so the document of a normal record is unchanged.
        ...(fields.breakGlass === undefined
          ? {}
          : { breakGlass: { approvedBy: fields.breakGlass.approvedBy } }),
        ...(fields.promotedFrom === undefined ? {} : { promotedFrom: fields.promotedFrom }),
        refuseBreakGlass: target.refuseBreakGlass,
        ...protection,
      };
      if (values.json) printJson(io, result);
      else {
        io.stdout(
          `verified ${target.repository} approved/${target.environment} #${fields.sequence}: record ${record.recordCommit}, ` +
            `source ${fields.sourceCommit} (PR #${fields.pullRequest}, approved by ${fields.approvedBy.join(", ")}, ` +
            `signed by ${record.signer}, issued ${fields.issuedAt})${record.unchanged ? " (already accepted)" : ""}` +
            `${describeMarks(fields)}; ` +
            target.maxAgeNote,
        );
      }
      return EXIT_OK;
    } catch (error) {
      if (!(error instanceof RecordVerificationError)) throw error;
      if (values.json)
        printJson(io, {
          verified: false,
          code: error.code,
          reason: error.message,
          refuseBreakGlass: target.refuseBreakGlass,
          ...protection,
        });
      io.stderr(`pullgate verify: REFUSED ${error.code}: ${error.message}`);
      if (error.code === "WRONG_REPOSITORY" && target.repositoryDerived) {
        io.stderr(
          `(${target.repository} was derived from --repo; pass --repository OWNER/NAME if that is not the repository)`,
        );
      }
      // Not reaching the repository is an I/O error (exit 2); everything else is a refusal (exit 1).
      return error.code === "FETCH_FAILED" ? EXIT_USAGE : EXIT_FAILURE;
    } finally {
      if (temporary !== null) await rm(temporary, { recursive: true, force: true });
    }
  },
};
