import {
  createMessage,
  enums,
  readSignature,
  SignaturePacket,
  verify,
  type PublicKey,
  type Signature,
} from "openpgp";

/**
 * OpenPGP detached-signature verification with the verdicts `git verify-commit` reaches through
 * `gpg --verify` (GnuPG 2.2, default settings):
 * - GOODSIG/VALIDSIG only when the signature is cryptographically good AND the signing (sub)key
 *   is valid NOW: gpg reports EXPKEYSIG for a key expired at verification time even when the
 *   signature was made before it expired, and REVKEYSIG for a revoked key or subkey whatever the
 *   revocation reason or date; git treats both as failures. openpgp.js judges the key at the
 *   signature's creation time, so the key is checked again at `now` here.
 * - an expired signature (EXPSIG), a bad one (BADSIG) or an unknown key (ERRSIG/NO_PUBKEY) fail.
 * - more than one signature in the block: git's status parser sees two exclusive statuses and
 *   gives up ('E'), so it fails here too.
 * - gpg looks at the key's state NOW only: a signature with a timestamp ahead of the clock is
 *   good, and so is one made before the key's expiry was extended.
 * Deliberately stricter than gpg (fail closed; the README lists them): SHA-1 (and MD5/RIPEMD)
 * data signatures, DSA/ElGamal keys and RSA keys under 2047 bits are refused (openpgp.js v6
 * defaults), as are signatures made while the key was expired when the key still carries that
 * old self-signature and is valid again now (gpg only looks at now).
 */

export interface OpenPgpResult {
  verified: boolean;
  reason: string;
  /** Primary key fingerprint, uppercase hex, when the issuer is in the keyring. */
  fingerprint: string | null;
  /** Primary user ID ("Name <email>"), when known. */
  userId: string | null;
  email: string | null;
  /** Emails of every valid user ID of the key. */
  emails: string[];
  /**
   * Until when (ms since the epoch) a good verdict stays good with the same keyring: the earliest
   * of the key's, the signing subkey's and the signature's expiry. Infinity when nothing expires
   * (and for failures, which time does not turn into passes that matter: they stay fail-closed).
   */
  validUntil: number;
}

const BEGIN = "-----BEGIN PGP SIGNATURE-----";
const END = "-----END PGP SIGNATURE-----";

function fail(reason: string, fingerprint: string | null = null): OpenPgpResult {
  return {
    verified: false,
    reason,
    fingerprint,
    userId: null,
    email: null,
    emails: [],
    validUntil: Infinity,
  };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** gpg's cmp_user_ids: the longer user ID wins, then the bytewise greater. */
function compareUserIds(a: string, b: string): number {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length - y.length || Buffer.compare(x, y);
}

/**
 * The signer's identities, and the primary user ID chosen as gpg's merge_selfsigs_main does
 * (that is the name GOODSIG reports): among valid user IDs whose latest self-signature carries
 * the primary-user-ID flag, the one with the newest such self-signature; when none is flagged,
 * the newest of all; ties broken by compareUserIds. openpgp.js's getPrimaryUser breaks ties the
 * other way, hence this.
 */
async function identity(
  key: PublicKey,
  now: Date,
): Promise<{ userId: string | null; email: string | null; emails: string[] }> {
  const valid: Array<{ userId: string; email: string; created: number; primary: boolean }> = [];
  for (const user of key.users) {
    if (user.userID === null) continue;
    try {
      await user.verify(now);
    } catch {
      continue; // revoked, expired or unverifiable user ID: not an identity of the signer
    }
    const latest = user.selfCertifications
      .filter((c) => c.created !== null && c.created.getTime() <= now.getTime())
      .sort((a, b) => b.created!.getTime() - a.created!.getTime())[0];
    valid.push({
      userId: user.userID.userID,
      email: user.userID.email,
      created: Math.floor((latest?.created?.getTime() ?? 0) / 1000),
      primary: latest?.isPrimaryUserID === true,
    });
  }
  const pick = (candidates: typeof valid) =>
    candidates.reduce<(typeof valid)[number] | null>((best, u) => {
      if (best === null || u.created > best.created) return u;
      if (u.created === best.created && compareUserIds(u.userId, best.userId) > 0) return u;
      return best;
    }, null);
  const primary = pick(valid.filter((u) => u.primary)) ?? pick(valid);
  return {
    userId: primary?.userId ?? null,
    email: primary === null || primary.email === "" ? null : primary.email,
    emails: valid.map((u) => u.email).filter((e) => e !== ""),
  };
}

/** Why a key that verified at signing time is not valid now, in gpg's terms. */
async function invalidNow(
  key: PublicKey,
  keyId: Parameters<PublicKey["getKeys"]>[0],
  now: Date,
): Promise<string | null> {
  try {
    await key.getSigningKey(keyId, now);
    return null;
  } catch (error) {
    const expiry = await key.getExpirationTime().catch(() => null);
    const sub = key.getKeys(keyId)[0];
    const subExpiry =
      sub !== undefined && sub !== key ? await sub.getExpirationTime(now).catch(() => null) : null;
    const expired = (t: Date | number | null) => t instanceof Date && t.getTime() <= now.getTime();
    if (expired(expiry) || expired(subExpiry)) return "key expired (gpg: EXPKEYSIG)";
    const revoked = await key.isRevoked(undefined, undefined, now).catch(() => false);
    const subRevoked =
      sub !== undefined && sub !== key && "bindingSignatures" in sub
        ? await sub.isRevoked(sub.bindingSignatures[0]!, key.keyPacket, now).catch(() => false)
        : false;
    if (revoked || subRevoked) return "key revoked (gpg: REVKEYSIG)";
    return `key not valid for signing now: ${message(error)}`;
  }
}

async function goodUntil(
  key: PublicKey,
  keyId: Parameters<PublicKey["getKeys"]>[0],
  packet: SignaturePacket,
): Promise<number> {
  const times: number[] = [];
  const add = (t: Date | number | null) => {
    if (t instanceof Date) times.push(t.getTime());
    else if (t === null) times.push(-Infinity); // unknown: do not cache
  };
  add(await key.getExpirationTime().catch(() => null));
  const sub = key.getKeys(keyId)[0];
  if (sub !== undefined && sub !== key) add(await sub.getExpirationTime().catch(() => null));
  add(packet.getExpirationTime());
  return Math.min(Infinity, ...times);
}

export async function verifyOpenPgp(
  payload: Uint8Array,
  signatureText: string,
  keys: PublicKey[],
  now: Date,
): Promise<OpenPgpResult> {
  if (!signatureText.startsWith(BEGIN)) return fail("not an armored detached OpenPGP signature");
  const endAt = signatureText.indexOf(END);
  if (endAt === -1) return fail("malformed OpenPGP signature: no END line");
  // gpg skips text after the END line (it lives in the signature header, outside the signed
  // payload, so it changes nothing); a second armored block is a second signature, which git
  // refuses.
  if (signatureText.indexOf("-----BEGIN PGP", endAt) !== -1)
    return fail("expected exactly one signature, found a second armored block");
  const armored = signatureText.slice(0, endAt + END.length) + "\n";
  let signature: Signature;
  try {
    signature = await readSignature({ armoredSignature: armored });
  } catch (error) {
    return fail(`malformed OpenPGP signature: ${message(error)}`);
  }
  const packets = signature.packets.filter((p): p is SignaturePacket => p instanceof SignaturePacket);
  if (packets.length !== signature.packets.length)
    return fail("malformed OpenPGP signature: unexpected packets");
  if (packets.length !== 1) return fail(`expected exactly one signature, found ${packets.length}`);
  const packet = packets[0]!;
  if (packet.signatureType !== enums.signature.binary && packet.signatureType !== enums.signature.text)
    return fail("not a document signature");
  const keyId = packet.issuerKeyID;
  const candidates = keys.filter((k) => k.getKeys(keyId).length > 0);
  const issuer = packet.issuerFingerprint
    ? Buffer.from(packet.issuerFingerprint).toString("hex").toUpperCase()
    : keyId.toHex().toUpperCase();
  if (candidates.length === 0) return fail(`signed by unknown key ${issuer}`);

  let lastError = "bad signature";
  for (const key of candidates) {
    const fingerprint = key.getFingerprint().toUpperCase();
    try {
      const result = await verify({
        message: await createMessage({ binary: payload }),
        signature,
        verificationKeys: [key],
        // gpg accepts a signature whose timestamp is ahead of the verifier's clock (a signer's
        // clock running fast); openpgp.js would call it "in the future". Verify at the later of
        // the two instants; the key's validity NOW is checked separately below.
        date: packet.created !== null && packet.created > now ? packet.created : now,
        format: "binary",
        // gpg judges a key by its current self-signatures only: a key whose expiry was extended
        // (new self-signature made after the commit was signed) is good. openpgp.js rejects that
        // at signing time unless this is set, then checks the key at `date` instead.
        config: { allowInsecureVerificationWithReformattedKeys: true },
      });
      const first = result.signatures[0];
      if (first === undefined) {
        lastError = "no signature";
        continue;
      }
      await first.verified;
    } catch (error) {
      const text = message(error);
      lastError = /digest did not match|Signature verification failed/i.test(text)
        ? `bad signature (gpg: BADSIG): ${text}`
        : /revoked/i.test(text)
          ? `key revoked (gpg: REVKEYSIG): ${text}`
          : /expired/i.test(text)
            ? `key or signature expired (gpg: EXPKEYSIG/EXPSIG): ${text}`
            : text;
      continue;
    }
    const problem = await invalidNow(key, keyId, now);
    const who = await identity(key, now);
    if (problem !== null)
      return { verified: false, reason: problem, fingerprint, ...who, validUntil: Infinity };
    return {
      verified: true,
      reason: `good signature by ${fingerprint}${who.userId === null ? "" : ` ${who.userId}`}`,
      fingerprint,
      ...who,
      validUntil: await goodUntil(key, keyId, packet),
    };
  }
  return fail(lastError, candidates.length === 1 ? candidates[0]!.getFingerprint().toUpperCase() : null);
}
