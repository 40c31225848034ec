/**
 * DSSE envelopes (Dead Simple Signing Envelope, v1) signed with the record's OpenPGP key
 * (docs/attestations.md). The signature is a detached, binary-mode OpenPGP signature over
 * PAE(payloadType, payload), never over the payload alone: the type is authenticated too, so a
 * signed statement cannot be re-labelled as another kind of document.
 *
 * Pure: openpgp.js only, no file system, no network.
 */

import * as openpgp from "openpgp";
import { fingerprintOf, readPublicKeys } from "../keys.js";
import { CLOCK_SKEW_MS } from "../time.js";

export interface DsseSignature {
  /** Base64 of the binary OpenPGP signature packet. */
  sig: string;
  /** Uppercase hex fingerprint of the signing key (an unauthenticated hint; checked on verify). */
  keyid: string;
}

export interface DsseEnvelope {
  /** Base64 of the payload bytes. */
  payload: string;
  payloadType: string;
  signatures: DsseSignature[];
}

export class DsseError extends Error {
  override readonly name = "DsseError";
}

const encoder = new TextEncoder();

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in bytes. */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = encoder.encode(payloadType);
  const head = encoder.encode(`DSSEv1 ${type.length} `);
  const middle = encoder.encode(` ${payload.length} `);
  const out = new Uint8Array(head.length + type.length + middle.length + payload.length);
  out.set(head, 0);
  out.set(type, head.length);
  out.set(middle, head.length + type.length);
  out.set(payload, head.length + type.length + middle.length);
  return out;
}

/** Signs `payload` as `payloadType`; one signature by `signingKey`. */
export async function signEnvelope(
  payloadType: string,
  payload: Uint8Array,
  signingKey: openpgp.PrivateKey,
  date?: Date,
): Promise<DsseEnvelope> {
  const message = await openpgp.createMessage({ binary: pae(payloadType, payload) });
  const sig = await openpgp.sign({
    message,
    signingKeys: signingKey,
    detached: true,
    format: "binary",
    ...(date === undefined ? {} : { date }),
  });
  return {
    payload: Buffer.from(payload).toString("base64"),
    payloadType,
    signatures: [{ sig: Buffer.from(sig).toString("base64"), keyid: fingerprintOf(signingKey) }],
  };
}

export interface VerifiedEnvelope {
  payloadType: string;
  payload: Uint8Array;
  /** Fingerprint of the pinned key whose signature verified. */
  signer: string;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Verifies an envelope against pinned armored public keys; throws DsseError on anything short of
 * exactly one signature, by a pinned key, valid over PAE(payloadType, payload). Only then are the
 * payload bytes returned: nothing unauthenticated leaves this function.
 */
export async function verifyEnvelope(
  envelope: unknown,
  keyring: string[],
  now: Date = new Date(),
): Promise<VerifiedEnvelope> {
  const { payloadType, payload, signature } = readEnvelope(envelope);
  let keys: openpgp.Key[];
  try {
    keys = await readPublicKeys(keyring);
  } catch (error) {
    throw new DsseError(`the pinned keyring is unreadable: ${message(error)}`);
  }
  const key = keys.find((k) => fingerprintOf(k) === signature.keyid);
  if (key === undefined) throw new DsseError(`signed by ${signature.keyid}, which is not a pinned key`);
  let parsed: openpgp.Signature;
  try {
    parsed = await openpgp.readSignature({ binarySignature: Buffer.from(signature.sig, "base64") });
  } catch (error) {
    throw new DsseError(`unreadable signature: ${message(error)}`);
  }
  if (parsed.packets.length !== 1) {
    throw new DsseError(`expected one signature packet, found ${parsed.packets.length}`);
  }
  // The keyid is only a hint: the packet must have been made by that very key (or its subkey).
  const [issuer] = parsed.getSigningKeyIDs();
  if (issuer === undefined || key.getKeys(issuer).length === 0) {
    throw new DsseError(`the signature was not made by ${signature.keyid}`);
  }
  try {
    const result = await openpgp.verify({
      message: await openpgp.createMessage({ binary: pae(payloadType, payload) }),
      signature: parsed,
      verificationKeys: [key],
      format: "binary",
      // Judged at now + the tolerated skew, as records are: an attesting machine whose clock is a
      // little ahead must not make its signature "from the future" here.
      date: new Date(now.getTime() + CLOCK_SKEW_MS),
      expectSigned: true,
    });
    const [first] = result.signatures;
    if (first === undefined) throw new DsseError("no signature result");
    await first.verified;
  } catch (error) {
    if (error instanceof DsseError) throw error;
    throw new DsseError(`the signature does not verify: ${message(error)}`);
  }
  return { payloadType, payload, signer: fingerprintOf(key) };
}

function readEnvelope(envelope: unknown): {
  payloadType: string;
  payload: Uint8Array;
  signature: DsseSignature;
} {
  if (typeof envelope !== "object" || envelope === null || Array.isArray(envelope)) {
    throw new DsseError("the envelope is not a JSON object");
  }
  const { payload, payloadType, signatures } = envelope as Record<string, unknown>;
  if (typeof payloadType !== "string" || payloadType === "") {
    throw new DsseError("payloadType is missing");
  }
  if (typeof payload !== "string" || !BASE64.test(payload)) {
    throw new DsseError("payload is not standard base64");
  }
  if (!Array.isArray(signatures) || signatures.length !== 1) {
    throw new DsseError(
      `expected exactly one signature, found ${Array.isArray(signatures) ? signatures.length : 0}`,
    );
  }
  const [only] = signatures as unknown[];
  if (typeof only !== "object" || only === null) throw new DsseError("the signature is not an object");
  const { sig, keyid } = only as Record<string, unknown>;
  if (typeof sig !== "string" || sig === "" || !BASE64.test(sig)) {
    throw new DsseError("sig is not standard base64");
  }
  if (typeof keyid !== "string" || !/^(?:[0-9A-F]{40}|[0-9A-F]{64})$/.test(keyid)) {
    throw new DsseError("keyid is not an uppercase hex key fingerprint");
  }
  return { payloadType, payload: Buffer.from(payload, "base64"), signature: { sig, keyid } };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
