/**
 * SLSA Source Verification Summary Attestations for records (docs/attestations.md): an in-toto
 * Statement v1 whose subject is the record's source commit (and its tree), with a
 * `https://slsa.dev/verification_summary/v1` predicate saying that pullgate verified the record
 * that approves it, under which policy, with which result, and which SLSA Source levels that
 * supports.
 *
 * Pure: the caller verifies the record (src/record/verify.ts) and passes the outcome in.
 */

import type * as openpgp from "openpgp";
import type { RecordFields } from "../format.js";
import { signEnvelope, verifyEnvelope, DsseError, type DsseEnvelope } from "./dsse.js";

export const IN_TOTO_STATEMENT_V1 = "https://in-toto.io/Statement/v1";
export const VSA_PREDICATE_V1 = "https://slsa.dev/verification_summary/v1";
export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";
/** The SLSA version whose Source track the levels below refer to. */
export const SLSA_VERSION = "1.2";
/** The verifier's identity: pullgate's record verification, whoever runs it. */
export const VERIFIER_ID = "https://github.com/apps/pullgate/record-verifier";

/**
 * The Source track levels a PASSED record supports, one entry per track as the VSA spec requires,
 * plus organisation-defined properties (prefixed ORG_SOURCE_, never SLSA_). Why these and not
 * higher levels: docs/attestations.md, "Levels".
 */
export const SOURCE_LEVEL = "SLSA_SOURCE_LEVEL_1";
/** The revision was approved by pullgate under the policy in `predicate.policy`. */
export const APPROVED_PROPERTY = "ORG_SOURCE_PULLGATE_APPROVED";

export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest: Record<string, string>;
  annotations?: Record<string, unknown>;
}

export interface VerificationSummary {
  verifier: { id: string; version: Record<string, string> };
  timeVerified: string;
  resourceUri: string;
  policy: { uri: string; digest: Record<string, string> };
  inputAttestations: ResourceDescriptor[];
  verificationResult: "PASSED" | "FAILED";
  verifiedLevels: string[];
  slsaVersion: string;
}

export interface Statement {
  _type: typeof IN_TOTO_STATEMENT_V1;
  subject: ResourceDescriptor[];
  predicateType: typeof VSA_PREDICATE_V1;
  predicate: VerificationSummary;
}

export interface SummaryInput {
  /**
   * The record's fields: authenticated when `passed`; when not, what the record claims (the
   * statement then says FAILED and claims no level).
   */
  fields: Pick<
    RecordFields,
    "repository" | "environment" | "branch" | "sequence" | "sourceCommit" | "sourceTree" | "policyDigest"
  >;
  recordCommit: string;
  passed: boolean;
  /** Web URL of the repository's canonical location, e.g. https://github.com/acme/deploy. */
  repositoryUrl: string;
  /** The version of pullgate that verified. */
  verifierVersion: string;
  timeVerified: Date;
}

const SHA1 = /^[0-9a-f]{40}$/;
const POLICY_DIGEST = /^sha256:([0-9a-f]{64})$/;

/** The in-toto Statement for a record. Throws on input that would make a malformed statement. */
export function buildSummaryStatement(input: SummaryInput): Statement {
  const { fields } = input;
  for (const [name, value] of [
    ["sourceCommit", fields.sourceCommit],
    ["sourceTree", fields.sourceTree],
    ["recordCommit", input.recordCommit],
  ] as const) {
    if (!SHA1.test(value)) throw new Error(`${name} must be a 40-hex SHA`);
  }
  const policy = POLICY_DIGEST.exec(fields.policyDigest);
  if (policy?.[1] === undefined) throw new Error("policyDigest must be sha256:<64 hex>");
  if (!/^https?:\/\/[^\s@]+$/.test(input.repositoryUrl)) {
    throw new Error("repositoryUrl must be an http(s) URL without credentials");
  }
  const repo = input.repositoryUrl.replace(/\/+$/, "");
  const approvedRef = `refs/heads/approved/${fields.environment}`;
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [
      {
        name: `${fields.repository}@${fields.sourceCommit}`,
        uri: `git+${repo}@${fields.sourceCommit}`,
        digest: { gitCommit: fields.sourceCommit },
        annotations: { source_refs: [`refs/heads/${fields.branch}`, approvedRef] },
      },
      {
        name: `${fields.repository}@${fields.sourceCommit}^{tree}`,
        digest: { gitTree: fields.sourceTree },
      },
    ],
    predicateType: VSA_PREDICATE_V1,
    predicate: {
      verifier: { id: VERIFIER_ID, version: { pullgate: input.verifierVersion } },
      timeVerified: input.timeVerified.toISOString(),
      resourceUri: `git+${repo}@refs/heads/${fields.branch}`,
      policy: {
        // The effective policy has no URL of its own: it is the org's and the repository's
        // .github/pullgate.yml merged; the digest (docs/policy.md, "Identity of a policy") pins it.
        uri: `${repo}/blob/${fields.sourceCommit}/.github/pullgate.yml`,
        digest: { sha256: policy[1] },
      },
      inputAttestations: [
        {
          name: `${approvedRef}#${fields.sequence}`,
          uri: `git+${repo}@${input.recordCommit}`,
          digest: { gitCommit: input.recordCommit },
        },
      ],
      verificationResult: input.passed ? "PASSED" : "FAILED",
      // The VSA spec: the highest level per track, or FAILED when verification failed.
      verifiedLevels: input.passed ? [SOURCE_LEVEL, APPROVED_PROPERTY] : ["FAILED"],
      slsaVersion: SLSA_VERSION,
    },
  };
}

/** The statement as DSSE payload bytes (compact JSON, UTF-8). */
export function statementPayload(statement: Statement): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(statement));
}

/** Builds the DSSE envelope: the statement signed with the record key. */
export function signStatement(
  statement: Statement,
  signingKey: openpgp.PrivateKey,
  date?: Date,
): Promise<DsseEnvelope> {
  return signEnvelope(IN_TOTO_PAYLOAD_TYPE, statementPayload(statement), signingKey, date);
}

export interface VerifiedAttestation {
  statement: Statement;
  signer: string;
}

/**
 * Verifies a pullgate attestation: the DSSE signature by a pinned key, then the payload type, then
 * the statement's type and predicate type. Throws DsseError. Checking what the statement says
 * (subject, result, levels) is the consumer's policy (docs/attestations.md, "Verifying").
 */
export async function verifyAttestation(
  envelope: unknown,
  keyring: string[],
  now?: Date,
): Promise<VerifiedAttestation> {
  const verified = await verifyEnvelope(envelope, keyring, now);
  if (verified.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new DsseError(`payloadType ${verified.payloadType} is not ${IN_TOTO_PAYLOAD_TYPE}`);
  }
  let statement: unknown;
  try {
    statement = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(verified.payload));
  } catch (error) {
    throw new DsseError(`the payload is not UTF-8 JSON: ${(error as Error).message}`);
  }
  if (typeof statement !== "object" || statement === null)
    throw new DsseError("the payload is not an object");
  const s = statement as Record<string, unknown>;
  if (s._type !== IN_TOTO_STATEMENT_V1) throw new DsseError(`_type is not ${IN_TOTO_STATEMENT_V1}`);
  if (s.predicateType !== VSA_PREDICATE_V1) throw new DsseError(`predicateType is not ${VSA_PREDICATE_V1}`);
  if (!Array.isArray(s.subject) || s.subject.length === 0)
    throw new DsseError("the statement has no subject");
  if (typeof s.predicate !== "object" || s.predicate === null)
    throw new DsseError("the statement has no predicate");
  return { statement: statement as Statement, signer: verified.signer };
}
