import { commitSha } from "./commit.js";
import type { Keyring } from "./keyring.js";
import type { SignatureVerdict } from "./types.js";
import { verifyCommitSignatureDetailed, type VerifyOptions } from "./verify.js";

/**
 * Verdicts are immutable per (commit SHA, keyring digest): the object is content-addressed and
 * the digest covers every key byte. One caveat: OpenPGP expiry is judged at verification time,
 * so an entry also remembers until when it may be served (`validUntil`: the signing key's,
 * subkey's or signature's expiry, from verifyCommitSignatureDetailed; verifyCached does this).
 * A bounded LRU (Map keeps insertion order; a hit re-inserts).
 */
export class VerdictCache {
  private readonly entries = new Map<string, { verdict: SignatureVerdict; validUntil: number }>();

  constructor(private readonly maxEntries = 10_000) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new RangeError("maxEntries must be a positive integer");
  }

  private static key(commitSha: string, keyringDigest: string): string {
    return `${commitSha.toLowerCase()}\0${keyringDigest}`;
  }

  get(commitSha: string, keyringDigest: string, now: Date = new Date()): SignatureVerdict | undefined {
    const key = VerdictCache.key(commitSha, keyringDigest);
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (now.getTime() >= entry.validUntil) return undefined;
    this.entries.set(key, entry);
    return entry.verdict;
  }

  set(
    commitSha: string,
    keyringDigest: string,
    verdict: SignatureVerdict,
    validUntil = Number.POSITIVE_INFINITY,
  ): void {
    const key = VerdictCache.key(commitSha, keyringDigest);
    this.entries.delete(key);
    this.entries.set(key, { verdict, validUntil });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}

/** verifyCommitSignature through the cache: one verification per (commit, keyring) while it holds. */
export async function verifyCached(
  cache: VerdictCache,
  raw: Uint8Array,
  keyring: Keyring,
  opts: VerifyOptions,
): Promise<SignatureVerdict> {
  const sha = commitSha(raw, opts.objectFormat ?? "sha1");
  const hit = cache.get(sha, keyring.digest, opts.now);
  if (hit !== undefined) return hit;
  const { verdict, validUntil } = await verifyCommitSignatureDetailed(raw, keyring, opts);
  cache.set(sha, keyring.digest, verdict, validUntil);
  return verdict;
}
