import { createHash, verify as cryptoVerify } from "node:crypto";
import {
  curveSize,
  parseSshPublicKey,
  SshReader,
  sshString,
  SshWireError,
  unsupportedKeyType,
  type SshPublicKey,
} from "./ssh-wire.js";

/**
 * SSHSIG (OpenSSH PROTOCOL.sshsig), as `ssh-keygen -Y verify` checks it:
 *   armor "-----BEGIN SSH SIGNATURE-----" ... "-----END SSH SIGNATURE-----" around base64 of
 *   "SSHSIG" | uint32 version (1) | string publickey | string namespace | string reserved |
 *   string hash_algorithm ("sha256" | "sha512") | string signature
 * and the signed data is
 *   "SSHSIG" | string namespace | string reserved | string hash_algorithm | string H(message).
 * Like OpenSSH's sshsig_dearmor, the base64 runs from after the BEGIN line to the first
 * "\n-----END SSH SIGNATURE-----"; whatever follows the END line is ignored.
 */

const BEGIN = "-----BEGIN SSH SIGNATURE-----";
const END = "\n-----END SSH SIGNATURE-----";
const MAGIC = "SSHSIG";

export interface SshSignature {
  publicKeyBlob: Uint8Array;
  /** Set when the key type is one we refuse (FIDO, certificates): verification must say why. */
  unsupported: string | null;
  publicKey: SshPublicKey | null;
  namespace: string;
  hashAlgorithm: "sha256" | "sha512";
  signatureAlgorithm: string;
  signatureBytes: Uint8Array;
}

export type SshSigParse = { ok: true; sig: SshSignature } | { ok: false; reason: string };

const STRICT_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function dearmor(text: string): Uint8Array | string {
  if (!text.startsWith(BEGIN)) return "missing SSH signature header";
  let rest = text.slice(BEGIN.length);
  if (rest.startsWith("\r\n")) rest = rest.slice(2);
  else if (rest.startsWith("\n")) rest = rest.slice(1);
  const end = rest.indexOf(END);
  if (end === -1) return "missing SSH signature footer";
  const b64 = rest.slice(0, end).replace(/[ \t\r\n\v\f]/g, "");
  if (!STRICT_BASE64.test(b64) || b64.length % 4 !== 0) return "invalid base64 in SSH signature";
  return Uint8Array.from(Buffer.from(b64, "base64"));
}

/** Parses an armored SSHSIG; never throws. */
export function parseSshSignature(armored: string): SshSigParse {
  const blob = dearmor(armored);
  if (typeof blob === "string") return { ok: false, reason: blob };
  try {
    const r = new SshReader(blob);
    const magic = String.fromCharCode(...r.raw(6));
    if (magic !== MAGIC) return { ok: false, reason: "bad SSH signature magic" };
    const version = r.uint32();
    if (version !== 1) return { ok: false, reason: `unsupported SSH signature version ${version}` };
    const publicKeyBlob = Uint8Array.from(r.string());
    const namespace = r.ascii();
    r.string(); // reserved
    const hash = r.ascii();
    const signature = r.string();
    r.end();
    if (hash !== "sha256" && hash !== "sha512")
      return { ok: false, reason: `unsupported SSH signature hash ${hash}` };
    const sr = new SshReader(signature);
    const signatureAlgorithm = sr.ascii();
    const signatureBytes = Uint8Array.from(sr.string());
    const keyType = new SshReader(publicKeyBlob).ascii();
    const unsupported = unsupportedKeyType(keyType) ?? unsupportedKeyType(signatureAlgorithm);
    if (unsupported === null) sr.end(); // FIDO signatures carry flags and a counter after the signature
    const publicKey = unsupported === null ? parseSshPublicKey(publicKeyBlob) : null;
    return {
      ok: true,
      sig: {
        publicKeyBlob,
        unsupported,
        publicKey,
        namespace,
        hashAlgorithm: hash,
        signatureAlgorithm,
        signatureBytes,
      },
    };
  } catch (error) {
    if (error instanceof SshWireError)
      return { ok: false, reason: `malformed SSH signature: ${error.message}` };
    throw error;
  }
}

function signedData(sig: SshSignature, message: Uint8Array): Uint8Array {
  const enc = new TextEncoder();
  const digest = createHash(sig.hashAlgorithm).update(message).digest();
  return Buffer.concat([
    enc.encode(MAGIC),
    sshString(enc.encode(sig.namespace)),
    sshString(new Uint8Array(0)),
    sshString(enc.encode(sig.hashAlgorithm)),
    sshString(digest),
  ]);
}

/** ECDSA signature blob (mpint r, mpint s) -> IEEE P1363 (r | s, fixed width). */
function ecdsaToP1363(bytes: Uint8Array, size: number): Uint8Array {
  const r = new SshReader(bytes);
  const rr = r.mpint();
  const ss = r.mpint();
  r.end();
  if (rr.length > size || ss.length > size || rr.length === 0 || ss.length === 0)
    throw new SshWireError("bad ECDSA signature");
  const out = new Uint8Array(2 * size);
  out.set(rr, size - rr.length);
  out.set(ss, 2 * size - ss.length);
  return out;
}

export type CryptoCheck = { ok: true } | { ok: false; reason: string };

/**
 * Checks the signature itself (not who may sign): namespace, algorithm agreement with the key,
 * and the cryptographic signature over the message. RSA with SHA-1 ("ssh-rsa") is refused as
 * OpenSSH's sshsig does; RSA keys under 1024 bits are refused as ssh-keygen does.
 */
export function checkSshSignature(
  sig: SshSignature,
  message: Uint8Array,
  expectedNamespace: string,
): CryptoCheck {
  if (sig.unsupported !== null) return { ok: false, reason: sig.unsupported };
  const key = sig.publicKey;
  if (key === null) return { ok: false, reason: "SSH signature has no usable public key" };
  if (sig.namespace !== expectedNamespace)
    return { ok: false, reason: `SSH signature namespace "${sig.namespace}" is not "${expectedNamespace}"` };
  const data = signedData(sig, message);
  try {
    let good: boolean;
    switch (key.kind) {
      case "ed25519":
        if (sig.signatureAlgorithm !== "ssh-ed25519")
          return { ok: false, reason: "signature algorithm does not match key" };
        if (sig.signatureBytes.length !== 64) return { ok: false, reason: "bad ed25519 signature length" };
        good = cryptoVerify(null, data, key.key, sig.signatureBytes);
        break;
      case "rsa": {
        if (sig.signatureAlgorithm === "ssh-rsa")
          return { ok: false, reason: "RSA/SHA-1 (ssh-rsa) SSH signatures are refused, as OpenSSH does" };
        const hash =
          sig.signatureAlgorithm === "rsa-sha2-256"
            ? "sha256"
            : sig.signatureAlgorithm === "rsa-sha2-512"
              ? "sha512"
              : null;
        if (hash === null)
          return { ok: false, reason: `unsupported RSA signature algorithm ${sig.signatureAlgorithm}` };
        if ((key.bits ?? 0) < 1024) return { ok: false, reason: "RSA key shorter than 1024 bits" };
        good = cryptoVerify(hash, data, key.key, sig.signatureBytes);
        break;
      }
      case "ecdsa-p256":
      case "ecdsa-p384":
      case "ecdsa-p521": {
        if (sig.signatureAlgorithm !== key.type)
          return { ok: false, reason: "signature algorithm does not match key" };
        const hash = key.kind === "ecdsa-p256" ? "sha256" : key.kind === "ecdsa-p384" ? "sha384" : "sha512";
        const p1363 = ecdsaToP1363(sig.signatureBytes, curveSize(key.kind));
        good = cryptoVerify(hash, data, { key: key.key, dsaEncoding: "ieee-p1363" }, p1363);
        break;
      }
    }
    return good ? { ok: true } : { ok: false, reason: "bad SSH signature" };
  } catch (error) {
    if (error instanceof SshWireError)
      return { ok: false, reason: `malformed SSH signature: ${error.message}` };
    return {
      ok: false,
      reason: `bad SSH signature: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}
