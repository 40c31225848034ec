import * as openpgp from "openpgp";
import type { SandboxCore } from "../core.js";
import type { ParsedCommit } from "../git/objects.js";
import { verifyCommit, type KnownKey, type Verification } from "./verification.js";

const parsedKeys = new WeakMap<SandboxCore, Map<number, openpgp.PublicKey>>();
const verdicts = new WeakMap<SandboxCore, Map<string, Verification>>();

/** The keys GitHub would know: web-flow, and every user's registered GPG keys. */
async function knownKeys(core: SandboxCore): Promise<KnownKey[]> {
  let cache = parsedKeys.get(core);
  if (cache === undefined) {
    cache = new Map();
    parsedKeys.set(core, cache);
  }
  const keys: KnownKey[] = [{ key: core.webflow.publicKey, emails: ["noreply@github.com"] }];
  for (const record of Object.values(core.state.gpgKeys)) {
    let key = cache.get(record.id);
    if (key === undefined) {
      key = await openpgp.readKey({ armoredKey: record.armored });
      cache.set(record.id, key);
    }
    const user = core.user(record.user);
    keys.push({
      key,
      emails: [...record.emails, ...(user?.email === null || user === undefined ? [] : [user.email])],
    });
  }
  return keys;
}

/** The `verification` object for a commit, cached by sha and by the set of registered keys. */
export async function commitVerification(
  core: SandboxCore,
  sha: string,
  commit: ParsedCommit,
): Promise<Verification> {
  let cache = verdicts.get(core);
  if (cache === undefined) {
    cache = new Map();
    verdicts.set(core, cache);
  }
  const key = `${sha}:${Object.keys(core.state.gpgKeys).length}:${Object.keys(core.state.sshSigningKeys).length}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const sshSigners = Object.values(core.state.sshSigningKeys).flatMap((k) => {
    const email = core.user(k.user)?.email;
    return email === null || email === undefined ? [] : [{ email, key: k.key }];
  });
  const verdict = await verifyCommit(commit, await knownKeys(core), core.now(), sshSigners);
  cache.set(key, verdict);
  return verdict;
}
