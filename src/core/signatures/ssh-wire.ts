import { createHash, createPublicKey, type KeyObject } from "node:crypto";

/**
 * SSH wire format (RFC 4251 §5) readers and public-key decoding for the key types OpenSSH can
 * sign git commits with. Pure: node:crypto only builds key objects, it does no I/O.
 */

export class SshWireError extends Error {
  override readonly name = "SshWireError";
}

export class SshReader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get remaining(): number {
    return this.bytes.length - this.at;
  }

  uint32(): number {
    if (this.remaining < 4) throw new SshWireError("truncated uint32");
    const b = this.bytes;
    const v =
      ((b[this.at]! << 24) >>> 0) + (b[this.at + 1]! << 16) + (b[this.at + 2]! << 8) + b[this.at + 3]!;
    this.at += 4;
    return v;
  }

  raw(n: number): Uint8Array {
    if (n < 0 || this.remaining < n) throw new SshWireError("truncated field");
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  string(): Uint8Array {
    return this.raw(this.uint32());
  }

  /** A string that must be printable ASCII (algorithm names, namespaces). */
  ascii(): string {
    const bytes = this.string();
    for (const b of bytes) if (b < 0x20 || b > 0x7e) throw new SshWireError("non-ASCII name");
    return String.fromCharCode(...bytes);
  }

  /** An mpint as unsigned magnitude bytes (leading zero removed); negative values are refused. */
  mpint(): Uint8Array {
    const v = this.string();
    if (v.length > 0 && (v[0]! & 0x80) !== 0) throw new SshWireError("negative mpint");
    let start = 0;
    while (start < v.length && v[start] === 0) start++;
    return v.subarray(start);
  }

  end(): void {
    if (this.remaining !== 0) throw new SshWireError("trailing data");
  }
}

export function sshString(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");

export type SshKeyKind = "ed25519" | "rsa" | "ecdsa-p256" | "ecdsa-p384" | "ecdsa-p521";

export interface SshPublicKey {
  /** The wire key type name ("ssh-ed25519", "ecdsa-sha2-nistp256", ...). */
  type: string;
  kind: SshKeyKind;
  /** The full wire blob: what allowed_signers and signatures carry, compared byte for byte. */
  blob: Uint8Array;
  key: KeyObject;
  /** ssh-keygen -l style: "SHA256:" + unpadded base64 of sha256(blob). */
  fingerprint: string;
  /** Size in bits, for RSA (OpenSSH refuses RSA keys under 1024 bits). */
  bits: number | null;
}

/** Key types OpenSSH knows but this verifier refuses, with why. */
export function unsupportedKeyType(type: string): string | null {
  if (type.startsWith("sk-")) return `unsupported FIDO security-key signature type ${type}`;
  if (type.includes("-cert-v01@openssh.com")) return `unsupported SSH certificate key type ${type}`;
  if (type === "ssh-dss") return "unsupported DSA key type ssh-dss";
  return null;
}

export function sshFingerprint(blob: Uint8Array): string {
  return "SHA256:" + createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
}

const CURVES: Record<string, { kind: SshKeyKind; crv: string; size: number }> = {
  nistp256: { kind: "ecdsa-p256", crv: "P-256", size: 32 },
  nistp384: { kind: "ecdsa-p384", crv: "P-384", size: 48 },
  nistp521: { kind: "ecdsa-p521", crv: "P-521", size: 66 },
};

export function curveSize(kind: SshKeyKind): number {
  return kind === "ecdsa-p256" ? 32 : kind === "ecdsa-p384" ? 48 : 66;
}

/** Decodes a public key wire blob. Throws SshWireError on anything malformed or unsupported. */
export function parseSshPublicKey(blob: Uint8Array): SshPublicKey {
  const r = new SshReader(blob);
  const type = r.ascii();
  const unsupported = unsupportedKeyType(type);
  if (unsupported !== null) throw new SshWireError(unsupported);
  let key: KeyObject;
  let kind: SshKeyKind;
  let bits: number | null = null;
  try {
    if (type === "ssh-ed25519") {
      const pk = r.string();
      if (pk.length !== 32) throw new SshWireError("bad ed25519 key length");
      r.end();
      kind = "ed25519";
      key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: b64url(pk) }, format: "jwk" });
    } else if (type === "ssh-rsa") {
      const e = r.mpint();
      const n = r.mpint();
      r.end();
      if (n.length === 0 || e.length === 0) throw new SshWireError("bad RSA key");
      kind = "rsa";
      key = createPublicKey({ key: { kty: "RSA", n: b64url(n), e: b64url(e) }, format: "jwk" });
      bits = key.asymmetricKeyDetails?.modulusLength ?? null;
    } else if (type.startsWith("ecdsa-sha2-")) {
      const curveName = r.ascii();
      const curve = Object.hasOwn(CURVES, curveName) ? CURVES[curveName] : undefined;
      if (curve === undefined || type !== `ecdsa-sha2-${curveName}`)
        throw new SshWireError(`unsupported ECDSA curve ${curveName}`);
      const point = r.string();
      r.end();
      if (point.length !== 1 + 2 * curve.size || point[0] !== 0x04) throw new SshWireError("bad ECDSA point");
      kind = curve.kind;
      key = createPublicKey({
        key: {
          kty: "EC",
          crv: curve.crv,
          x: b64url(point.subarray(1, 1 + curve.size)),
          y: b64url(point.subarray(1 + curve.size)),
        },
        format: "jwk",
      });
    } else {
      throw new SshWireError(`unsupported key type ${type}`);
    }
  } catch (error) {
    if (error instanceof SshWireError) throw error;
    // node:crypto refuses points not on the curve and the like.
    throw new SshWireError(`invalid ${type} key: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { type, kind, blob: Uint8Array.from(blob), key, fingerprint: sshFingerprint(blob), bits };
}
