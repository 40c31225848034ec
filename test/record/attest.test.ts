/**
 * Attestations (docs/attestations.md): the in-toto Statement with a SLSA verification summary
 * predicate, validated against JSON schemas written from the published specs, and the DSSE
 * envelope signed with the record key over PAE, with the tampering it must detect.
 */
import { Envelope } from "@sigstore/protobuf-specs";
import * as openpgp from "openpgp";
import { beforeAll, describe, expect, it } from "vitest";
import { DsseError, pae, signEnvelope, verifyEnvelope } from "../../src/record/attest/dsse.js";
import {
  APPROVED_PROPERTY,
  IN_TOTO_PAYLOAD_TYPE,
  SOURCE_LEVEL,
  buildSummaryStatement,
  signStatement,
  verifyAttestation,
  type SummaryInput,
} from "../../src/record/attest/vsa.js";
import { statementSchemaErrors as validatorErrors } from "./attest-schemas.js";
import { makeKey, type TestKey } from "./helpers.js";

const COMMIT = "1".repeat(40);
const TREE = "2".repeat(40);
const RECORD = "3".repeat(40);

function input(overrides: Partial<SummaryInput> = {}): SummaryInput {
  return {
    fields: {
      repository: "acme/deploy",
      environment: "production",
      branch: "main",
      sequence: 4,
      sourceCommit: COMMIT,
      sourceTree: TREE,
      policyDigest: "sha256:" + "ab".repeat(32),
    },
    recordCommit: RECORD,
    passed: true,
    repositoryUrl: "https://github.com/acme/deploy",
    verifierVersion: "0.1.0",
    timeVerified: new Date("2026-12-01T10:00:00.000Z"),
    ...overrides,
  };
}

describe("the verification summary statement", () => {
  const validate = validatorErrors;

  it("a PASSED statement matches the in-toto Statement v1 and SLSA VSA v1 schemas", () => {
    const statement = buildSummaryStatement(input());
    expect(validate(statement)).toEqual([]);
    expect(statement.subject[0]?.digest).toEqual({ gitCommit: COMMIT });
    expect(statement.subject[1]?.digest).toEqual({ gitTree: TREE });
    expect(statement.predicate).toMatchObject({
      verificationResult: "PASSED",
      verifiedLevels: [SOURCE_LEVEL, APPROVED_PROPERTY],
      resourceUri: "git+https://github.com/acme/deploy@refs/heads/main",
      policy: { digest: { sha256: "ab".repeat(32) } },
      inputAttestations: [{ name: "refs/heads/approved/production#4", digest: { gitCommit: RECORD } }],
      timeVerified: "2026-12-01T10:00:00.000Z",
      slsaVersion: "1.2",
    });
  });

  it("a FAILED statement claims no level (verifiedLevels is [FAILED]) and still matches the schemas", () => {
    const statement = buildSummaryStatement(input({ passed: false }));
    expect(validate(statement)).toEqual([]);
    expect(statement.predicate.verificationResult).toBe("FAILED");
    expect(statement.predicate.verifiedLevels).toEqual(["FAILED"]);
  });

  it("at most one level per SLSA track, as the VSA spec requires", () => {
    const levels = buildSummaryStatement(input()).predicate.verifiedLevels;
    const tracks = levels.flatMap((l) => /^SLSA_([A-Z]+)_LEVEL_/.exec(l)?.[1] ?? []);
    expect(new Set(tracks).size).toBe(tracks.length);
    // Custom properties must not pose as SLSA's own values.
    for (const level of levels)
      expect(level.startsWith("SLSA_") ? /^SLSA_SOURCE_LEVEL_\d$/.test(level) : true).toBe(true);
  });

  it("the schemas are not vacuous: they reject a wrong _type, a missing result, a bad digest, a custom SLSA_ level", () => {
    const good = buildSummaryStatement(input());
    const broken: unknown[] = [
      { ...good, _type: "https://in-toto.io/Statement/v0.1" },
      { ...good, predicate: { ...good.predicate, verificationResult: undefined } },
      { ...good, predicate: { ...good.predicate, verificationResult: "OK" } },
      { ...good, subject: [{ name: "x", digest: { gitCommit: "XYZ" } }] },
      { ...good, subject: [] },
      { ...good, predicate: { ...good.predicate, verifiedLevels: ["SLSA_SOURCE_GOLD"] } },
      { ...good, predicate: { ...good.predicate, policy: { digest: { sha256: "ab".repeat(32) } } } },
    ];
    for (const value of broken) expect(validate(value).length).toBeGreaterThan(0);
  });

  it("refuses input that would make a malformed statement", () => {
    expect(() => buildSummaryStatement(input({ recordCommit: "abc" }))).toThrow(/recordCommit/);
    expect(() =>
      buildSummaryStatement(input({ fields: { ...input().fields, policyDigest: "md5:00" } })),
    ).toThrow(/policyDigest/);
    expect(() =>
      buildSummaryStatement(input({ repositoryUrl: "https://token@github.com/acme/deploy" })),
    ).toThrow(/credentials/);
  });
});

describe("DSSE with the record's OpenPGP key", () => {
  let key: TestKey;
  let other: TestKey;
  beforeAll(async () => {
    key = await makeKey();
    other = await makeKey("mallory", "mallory@example.com");
  });

  it("PAE is the DSSE v1 pre-authentication encoding, lengths in bytes", () => {
    const text = new TextDecoder().decode(
      pae("application/vnd.in-toto+json", new TextEncoder().encode("héllo")),
    );
    expect(text).toBe("DSSEv1 28 application/vnd.in-toto+json 6 héllo");
    expect(new TextDecoder().decode(pae("", new Uint8Array()))).toBe("DSSEv1 0  0 ");
  });

  it("signs PAE with a detached binary OpenPGP signature (keyid = fingerprint) that openpgp.js verifies", async () => {
    const envelope = await signStatement(buildSummaryStatement(input()), key.signingKey);
    expect(envelope.payloadType).toBe(IN_TOTO_PAYLOAD_TYPE);
    expect(envelope.signatures).toHaveLength(1);
    expect(envelope.signatures[0]?.keyid).toBe(key.fingerprint);
    // Independent check of what is signed: the signature is over PAE, not over the payload.
    const signature = await openpgp.readSignature({
      binarySignature: Buffer.from(envelope.signatures[0]?.sig ?? "", "base64"),
    });
    const payload = Buffer.from(envelope.payload, "base64");
    const publicKey = await openpgp.readKey({ armoredKey: key.publicKey });
    const over = async (bytes: Uint8Array) => {
      const result = await openpgp.verify({
        message: await openpgp.createMessage({ binary: bytes }),
        signature,
        verificationKeys: publicKey,
        format: "binary",
      });
      return result.signatures[0]?.verified.then(
        () => true,
        () => false,
      );
    };
    expect(await over(pae(IN_TOTO_PAYLOAD_TYPE, payload))).toBe(true);
    expect(await over(payload)).toBe(false);
    // The envelope is the DSSE JSON shape Sigstore's protobuf-specs reads and writes back unchanged.
    expect(Envelope.toJSON(Envelope.fromJSON(envelope))).toEqual(envelope);
  });

  it("verifyAttestation returns the statement and the signer for an untouched envelope", async () => {
    const statement = buildSummaryStatement(input());
    const envelope = await signStatement(statement, key.signingKey);
    const verified = await verifyAttestation(envelope, [key.publicKey]);
    expect(verified.signer).toBe(key.fingerprint);
    expect(verified.statement).toEqual(statement);
  });

  it("refuses a changed payload (a FAILED summary re-labelled PASSED)", async () => {
    const envelope = await signStatement(buildSummaryStatement(input({ passed: false })), key.signingKey);
    const forged = JSON.parse(Buffer.from(envelope.payload, "base64").toString("utf8")) as {
      predicate: { verificationResult: string };
    };
    forged.predicate.verificationResult = "PASSED";
    const tampered = { ...envelope, payload: Buffer.from(JSON.stringify(forged)).toString("base64") };
    await expect(verifyAttestation(tampered, [key.publicKey])).rejects.toThrow(/does not verify/);
  });

  it("refuses a changed payloadType: PAE binds the type, so the signature no longer verifies", async () => {
    const payload = new TextEncoder().encode('{"a":1}');
    const envelope = await signEnvelope("application/vnd.example+json", payload, key.signingKey);
    // The generic verifier accepts any type; only the signature can catch the relabelling.
    await expect(verifyEnvelope(envelope, [key.publicKey])).resolves.toMatchObject({
      payloadType: "application/vnd.example+json",
    });
    await expect(
      verifyEnvelope({ ...envelope, payloadType: IN_TOTO_PAYLOAD_TYPE }, [key.publicKey]),
    ).rejects.toThrow(/does not verify/);
    // And a genuinely signed envelope of another type is not an attestation.
    await expect(verifyAttestation(envelope, [key.publicKey])).rejects.toThrow(/payloadType/);
  });

  it("refuses the wrong key: an envelope signed by an unpinned key, or a keyid that lies about the signer", async () => {
    const statement = buildSummaryStatement(input());
    const byMallory = await signStatement(statement, other.signingKey);
    await expect(verifyAttestation(byMallory, [key.publicKey])).rejects.toThrow(/not a pinned key/);
    const lying = {
      ...byMallory,
      signatures: [{ sig: byMallory.signatures[0]?.sig ?? "", keyid: key.fingerprint }],
    };
    await expect(verifyAttestation(lying, [key.publicKey])).rejects.toThrow(/not made by/);
  });

  it("tolerates the record clock skew for a signer whose clock is ahead, and no more", async () => {
    const now = new Date("2026-12-01T10:00:00Z");
    const statement = buildSummaryStatement(input());
    const ahead = await signStatement(statement, key.signingKey, new Date(now.getTime() + 2 * 60_000));
    await expect(verifyAttestation(ahead, [key.publicKey], now)).resolves.toMatchObject({
      signer: key.fingerprint,
    });
    const future = await signStatement(statement, key.signingKey, new Date(now.getTime() + 10 * 60_000));
    await expect(verifyAttestation(future, [key.publicKey], now)).rejects.toThrow(/does not verify/);
  });

  it("refuses malformed envelopes: no signature, two signatures, bad base64, not an object", async () => {
    const envelope = await signStatement(buildSummaryStatement(input()), key.signingKey);
    const sig = envelope.signatures[0];
    if (sig === undefined) throw new Error("no signature");
    for (const bad of [
      { ...envelope, signatures: [] },
      { ...envelope, signatures: [sig, sig] },
      { ...envelope, payload: "not base64!" },
      { ...envelope, signatures: [{ ...sig, sig: "%%%" }] },
      null,
      [envelope],
    ]) {
      await expect(verifyAttestation(bad, [key.publicKey])).rejects.toBeInstanceOf(DsseError);
    }
  });
});
