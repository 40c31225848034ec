/** Attestations about records: DSSE envelopes and SLSA verification summaries (docs/attestations.md). */
export {
  DsseError,
  pae,
  signEnvelope,
  verifyEnvelope,
  type DsseEnvelope,
  type DsseSignature,
} from "./dsse.js";
export {
  APPROVED_PROPERTY,
  IN_TOTO_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_V1,
  SLSA_VERSION,
  SOURCE_LEVEL,
  VERIFIER_ID,
  VSA_PREDICATE_V1,
  buildSummaryStatement,
  signStatement,
  statementPayload,
  verifyAttestation,
  type Statement,
  type SummaryInput,
  type VerificationSummary,
  type VerifiedAttestation,
} from "./vsa.js";
