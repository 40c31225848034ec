import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as openpgp from "openpgp";

/**
 * The sandbox's stand-in for GitHub's "web-flow" key: it signs the merge and squash commits the
 * sandbox makes, as GitHub does. OpenPGP v4 ed25519 (legacy curve) so GnuPG 2.2 imports it.
 * Kept in the sandbox dir so a restarted sandbox signs with the same key.
 */
export class WebFlowKey {
  private constructor(
    readonly privateKey: openpgp.PrivateKey,
    readonly publicKey: openpgp.PublicKey,
    readonly publicArmored: string,
    readonly publicKeyPath: string,
  ) {}

  static async loadOrCreate(dir: string): Promise<WebFlowKey> {
    const privatePath = join(dir, "web-flow-private.asc");
    const publicPath = join(dir, "web-flow.asc");
    let privateArmored: string;
    if (existsSync(privatePath)) {
      privateArmored = readFileSync(privatePath, "utf8");
    } else {
      const generated = await openpgp.generateKey({
        type: "ecc",
        curve: "ed25519Legacy",
        userIDs: [{ name: "GitHub", email: "noreply@github.com" }],
        format: "armored",
      });
      privateArmored = generated.privateKey;
      writeFileSync(privatePath, privateArmored, { mode: 0o600 });
    }
    const privateKey = await openpgp.readPrivateKey({ armoredKey: privateArmored });
    const publicKey = privateKey.toPublic();
    const publicArmored = publicKey.armor();
    writeFileSync(publicPath, publicArmored);
    return new WebFlowKey(privateKey, publicKey, publicArmored, publicPath);
  }

  /** A detached, armored, binary-mode signature over the exact commit text. */
  async sign(payload: string): Promise<string> {
    const message = await openpgp.createMessage({ binary: Buffer.from(payload, "utf8") });
    return openpgp.sign({ message, signingKeys: this.privateKey, detached: true, format: "armored" });
  }

  fingerprint(): string {
    return this.publicKey.getFingerprint().toUpperCase();
  }
}
