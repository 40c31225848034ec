/**
 * Builds a throwaway git repository full of signed, tampered and unsigned commits with real
 * gpg, ssh-keygen and `git commit -S`, plus the keyring pullgate and git both verify against.
 * Everything lives in one temp dir: a signing GNUPGHOME (every secret key), a verifying
 * GNUPGHOME (only the exported trusted public keys, like pullgate's keyring), an isolated git
 * config. Nothing touches ~/.gnupg or the user's git config.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface FixtureCommit {
  name: string;
  sha: string;
  /** What the fixture expects, only for the report; the tests compare against git itself. */
  note: string;
}

export interface Fixture {
  dir: string;
  repo: string;
  keysDir: string;
  signHome: string;
  verifyHome: string;
  allowedSigners: string;
  commits: FixtureCommit[];
  /** OpenPGP primary fingerprints by fixture key name. */
  fingerprints: Record<string, string>;
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  input?: string | Buffer,
  cwd?: string,
): string {
  return execFileSync(cmd, args, { env, input, cwd, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
}

const PERSON = { name: "Fixture Person", email: "fixture@example.com" };

export function buildFixture(opts: { openpgp: boolean; ssh: boolean }): Fixture {
  const dir = mkdtempSync(join(tmpdir(), "pullgate-sig-"));
  const signHome = join(dir, "gnupg-sign");
  const verifyHome = join(dir, "gnupg-verify");
  const keysDir = join(dir, "keys");
  const sshDir = join(dir, "ssh");
  const repo = join(dir, "repo");
  for (const d of [signHome, verifyHome, keysDir, sshDir, repo]) mkdirSync(d, { recursive: true });
  chmodSync(signHome, 0o700);
  chmodSync(verifyHome, 0o700);
  const gitConfig = join(dir, "gitconfig");
  writeFileSync(gitConfig, "");
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    GNUPGHOME: signHome,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: gitConfig,
    LC_ALL: "C",
    TZ: "UTC",
  };
  const commits: FixtureCommit[] = [];
  const fingerprints: Record<string, string> = {};
  const allowedSigners = join(keysDir, "allowed_signers");

  const git = (args: string[], extraEnv: NodeJS.ProcessEnv = {}, input?: string | Buffer) =>
    run(
      "git",
      ["-c", `user.name=${PERSON.name}`, "-c", `user.email=${PERSON.email}`, ...args],
      { ...env, ...extraEnv },
      input,
      repo,
    ).trim();
  git(["init", "-q", "-b", "main", "."]);
  let counter = 0;
  const commit = (name: string, note: string, signArgs: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    counter++;
    writeFileSync(join(repo, "file.txt"), `${name} ${counter}\n`);
    git(["add", "file.txt"]);
    git([...signArgs, "commit", "-q", "--allow-empty", "-m", `${name}\n\nbody of ${name}`], extraEnv);
    const sha = git(["rev-parse", "HEAD"]);
    commits.push({ name, sha, note });
    return sha;
  };
  const catFile = (sha: string) => execFileSync("git", ["cat-file", "commit", sha], { cwd: repo, env });
  const writeLiteral = (name: string, note: string, raw: Buffer) => {
    const sha = run(
      "git",
      ["hash-object", "-t", "commit", "-w", "--literally", "--stdin"],
      env,
      raw,
      repo,
    ).trim();
    commits.push({ name, sha, note });
    return sha;
  };
  /** Derived objects: each proves a way of tampering is caught (or, for harmless edits, that git and we still agree). */
  const tamper = (base: string, prefix: string, other: string) => {
    const raw = catFile(base);
    const text = raw.toString("latin1");
    const sigStart = text.indexOf("\ngpgsig ") + 1;
    const msgStart = text.indexOf("\n\n") + 2;
    let sigEnd = text.indexOf("\n", sigStart) + 1;
    while (text[sigEnd] === " ") sigEnd = text.indexOf("\n", sigEnd) + 1;
    const sigHeader = text.slice(sigStart, sigEnd);
    const otherText = catFile(other).toString("latin1");
    const oStart = otherText.indexOf("\ngpgsig ") + 1;
    let oEnd = otherText.indexOf("\n", oStart) + 1;
    while (otherText[oEnd] === " ") oEnd = otherText.indexOf("\n", oEnd) + 1;
    const emptyTree = run("git", ["hash-object", "-t", "tree", "-w", "--stdin"], env, "", repo).trim();
    const bin = (s: string) => Buffer.from(s, "latin1");
    writeLiteral(
      `${prefix}-message-changed`,
      "tampered",
      bin(text.slice(0, msgStart) + "evil " + text.slice(msgStart)),
    );
    writeLiteral(`${prefix}-trailing-newline-added`, "tampered", bin(text + "\n"));
    writeLiteral(
      `${prefix}-tree-changed`,
      "tampered",
      bin(text.replace(/^tree [0-9a-f]{40}/, `tree ${emptyTree}`)),
    );
    writeLiteral(
      `${prefix}-author-changed`,
      "tampered",
      bin(text.replace(/\nauthor [^<]*</, "\nauthor Mallory <")),
    );
    writeLiteral(
      `${prefix}-signature-of-other-commit`,
      "tampered",
      bin(text.slice(0, sigStart) + otherText.slice(oStart, oEnd) + text.slice(sigEnd)),
    );
    writeLiteral(
      `${prefix}-signature-header-duplicated`,
      "edge",
      bin(text.slice(0, sigEnd) + sigHeader + text.slice(sigEnd)),
    );
    writeLiteral(
      `${prefix}-gpgsig-sha256-header-added`,
      "edge: other-algorithm signature header is not payload",
      bin(text.slice(0, sigEnd) + "gpgsig-sha256 junk\n more junk\n" + text.slice(sigEnd)),
    );
    writeLiteral(
      `${prefix}-signature-trailing-junk`,
      "edge",
      bin(text.slice(0, sigEnd) + " trailing junk\n" + text.slice(sigEnd)),
    );
    writeLiteral(
      `${prefix}-signature-moved-to-end-of-headers`,
      "edge",
      bin(text.slice(0, sigStart) + text.slice(sigEnd, msgStart - 1) + sigHeader + text.slice(msgStart - 1)),
    );
    writeLiteral(
      `${prefix}-signature-truncated`,
      "tampered",
      bin(
        text.slice(0, sigStart) +
          sigHeader.split("\n").slice(0, 3).join("\n") +
          "\n -----END PGP SIGNATURE-----\n" +
          text.slice(sigEnd),
      ),
    );
  };

  commit("unsigned", "no signature", []);

  if (opts.openpgp) {
    const gpg = (args: string[], input?: string, extraEnv: NodeJS.ProcessEnv = {}) =>
      run(
        "gpg",
        ["--batch", "--no-tty", "--pinentry-mode", "loopback", "--passphrase", "", ...args],
        { ...env, ...extraEnv },
        input,
      );
    const genKey = (name: string, params: string, fakedTime?: string) => {
      const email = `${name}@example.com`;
      gpg(
        [...(fakedTime ? ["--faked-system-time", fakedTime] : []), "--gen-key"],
        `%no-protection\n${params}\nName-Real: ${name}\nName-Email: ${email}\n%commit\n`,
      );
      const colons = gpg(["--with-colons", "--list-keys", email]);
      const fpr = /^fpr:{9}([0-9A-F]{40}):/m.exec(colons)?.[1];
      if (fpr === undefined) throw new Error(`no fingerprint for ${name}`);
      fingerprints[name] = fpr;
      return fpr;
    };
    const ed = "Key-Type: eddsa\nKey-Curve: ed25519\nKey-Usage: sign";
    genKey("pgp-ed25519", `${ed}\nExpire-Date: 0`);
    genKey("pgp-rsa", "Key-Type: RSA\nKey-Length: 2048\nKey-Usage: sign\nExpire-Date: 0");
    genKey(
      "pgp-subkey",
      "Key-Type: eddsa\nKey-Curve: ed25519\nKey-Usage: cert\nSubkey-Type: eddsa\nSubkey-Curve: ed25519\nSubkey-Usage: sign\nExpire-Date: 0",
    );
    genKey("pgp-expiring-later", `${ed}\nExpire-Date: 2099-01-01`);
    genKey("pgp-expired", `${ed}\nExpire-Date: 1y`, "20200101T000000");
    genKey("pgp-revoked", `${ed}\nExpire-Date: 0`);
    genKey("pgp-unknown", `${ed}\nExpire-Date: 0`);
    genKey("pgp-ecdsa-p256", "Key-Type: ecdsa\nKey-Curve: nistp256\nKey-Usage: sign\nExpire-Date: 0");
    genKey(
      "pgp-subkey-revoked",
      "Key-Type: eddsa\nKey-Curve: ed25519\nKey-Usage: cert\nSubkey-Type: eddsa\nSubkey-Curve: ed25519\nSubkey-Usage: sign\nExpire-Date: 0",
    );

    genKey("pgp-multi-uid", `${ed}\nExpire-Date: 0`);
    gpg(["--quick-add-uid", fingerprints["pgp-multi-uid"]!, "Second Identity <second@example.com>"]);
    genKey("pgp-primary-flag", `${ed}\nExpire-Date: 0`);
    gpg([
      "--quick-add-uid",
      fingerprints["pgp-primary-flag"]!,
      "A Much Longer Second Identity <a-much-longer-second@example.com>",
    ]);
    gpg([
      "--quick-set-primary-uid",
      fingerprints["pgp-primary-flag"]!,
      "pgp-primary-flag <pgp-primary-flag@example.com>",
    ]);
    genKey("pgp-uid-revoked", `${ed}\nExpire-Date: 0`);
    gpg(["--quick-add-uid", fingerprints["pgp-uid-revoked"]!, "Remaining Identity <remaining@example.com>"]);
    gpg([
      "--quick-revoke-uid",
      fingerprints["pgp-uid-revoked"]!,
      "pgp-uid-revoked <pgp-uid-revoked@example.com>",
    ]);
    genKey("pgp-expiry-extended", `${ed}\nExpire-Date: 1y`, "20200101T000000");
    genKey(
      "pgp-expired-subkey",
      "Key-Type: eddsa\nKey-Curve: ed25519\nKey-Usage: cert\nExpire-Date: 0",
      "20200101T000000",
    );
    gpg([
      "--faked-system-time",
      "20200101T000000",
      "--quick-add-key",
      fingerprints["pgp-expired-subkey"]!,
      "ed25519",
      "sign",
      "1y",
    ]);
    genKey("pgp-revoked-separately", `${ed}\nExpire-Date: 0`);

    // A gpg wrapper that signs "in 2020": the only way to sign with a key that is expired today.
    const oldGpg = join(dir, "gpg-2020");
    writeFileSync(oldGpg, `#!/bin/sh\nexec gpg --faked-system-time 20200601T000000 "$@"\n`, { mode: 0o755 });
    const futureGpg = join(dir, "gpg-2099");
    writeFileSync(futureGpg, `#!/bin/sh\nexec gpg --faked-system-time 20990101T000000 "$@"\n`, {
      mode: 0o755,
    });
    const beforeKeyGpg = join(dir, "gpg-before-key");
    writeFileSync(
      beforeKeyGpg,
      `#!/bin/sh\nexec gpg --ignore-time-conflict --faked-system-time 20200601T000000 "$@"\n`,
      { mode: 0o755 },
    );
    const sha1Gpg = join(dir, "gpg-sha1");
    writeFileSync(sha1Gpg, `#!/bin/sh\nexec gpg --digest-algo SHA1 "$@"\n`, { mode: 0o755 });
    const pgp = (name: string) => ["-c", `user.signingkey=${fingerprints[name]}!`, "-c", "gpg.program=gpg"];
    const old = { GIT_AUTHOR_DATE: "2020-06-01T00:00:00Z", GIT_COMMITTER_DATE: "2020-06-01T00:00:00Z" };

    const ed1 = commit("pgp-ed25519-good", "verified", ["-c", "commit.gpgsign=true", ...pgp("pgp-ed25519")]);
    const ed2 = commit("pgp-ed25519-good-2", "verified", [
      "-c",
      "commit.gpgsign=true",
      ...pgp("pgp-ed25519"),
    ]);
    commit("pgp-rsa-good", "verified", ["-c", "commit.gpgsign=true", ...pgp("pgp-rsa")]);
    commit("pgp-subkey-good", "verified (signing subkey)", [
      "-c",
      "commit.gpgsign=true",
      "-c",
      `user.signingkey=${fingerprints["pgp-subkey"]}`,
    ]);
    commit("pgp-expiring-later-good", "verified", [
      "-c",
      "commit.gpgsign=true",
      ...pgp("pgp-expiring-later"),
    ]);
    commit("pgp-ecdsa-p256-good", "verified", ["-c", "commit.gpgsign=true", ...pgp("pgp-ecdsa-p256")]);
    commit(
      "pgp-expired-signed-before-expiry",
      "EXPKEYSIG",
      ["-c", "commit.gpgsign=true", ...pgp("pgp-expired"), "-c", `gpg.program=${oldGpg}`],
      old,
    );
    commit("pgp-revoked", "REVKEYSIG", ["-c", "commit.gpgsign=true", ...pgp("pgp-revoked")]);
    commit("pgp-subkey-revoked", "REVKEYSIG (subkey)", [
      "-c",
      "commit.gpgsign=true",
      "-c",
      `user.signingkey=${fingerprints["pgp-subkey-revoked"]}`,
    ]);
    commit("pgp-unknown-key", "NO_PUBKEY", ["-c", "commit.gpgsign=true", ...pgp("pgp-unknown")]);
    commit("pgp-sha1-digest", "gpg accepts SHA-1; pullgate refuses (deliberate)", [
      "-c",
      "commit.gpgsign=true",
      ...pgp("pgp-rsa"),
      "-c",
      `gpg.program=${sha1Gpg}`,
    ]);
    const sign = (name: string, program = "gpg") => [
      "-c",
      "commit.gpgsign=true",
      ...pgp(name),
      "-c",
      `gpg.program=${program}`,
    ];
    commit("pgp-multi-uid-good", "verified; signer = primary user ID", sign("pgp-multi-uid"));
    commit(
      "pgp-uid-revoked-good",
      "verified; the revoked user ID is not the signer's",
      sign("pgp-uid-revoked"),
    );
    {
      // A merge of a signed tag: the commit carries a multi-line mergetag header (with the tag's
      // own PGP signature inside) before its gpgsig.
      git(["-c", `user.signingkey=${fingerprints["pgp-rsa"]}!`, "tag", "-s", "-m", "signed tag", "v1"]);
      git(["checkout", "-q", "-b", "side", "HEAD~1"]);
      writeFileSync(join(repo, "side.txt"), "side\n");
      git(["add", "side.txt"]);
      git(["commit", "-q", "-m", "side"]);
      git([...sign("pgp-ed25519"), "merge", "-q", "--no-ff", "-m", "merge signed tag", "v1"]);
      const merge = git(["rev-parse", "HEAD"]);
      if (!catFile(merge).toString("latin1").includes("\nmergetag object "))
        throw new Error("no mergetag header");
      commits.push({
        name: "pgp-merge-with-mergetag-good",
        sha: merge,
        note: "verified; payload keeps the mergetag header",
      });
      git(["checkout", "-q", "main"]);
      // A latin-1 message with an encoding header: the payload is bytes, not text.
      const msgFile = join(dir, "latin1-message");
      writeFileSync(msgFile, Buffer.from("caf\xe9 cr\xe8me\n\nna\xefve body\n", "latin1"));
      git([
        ...sign("pgp-ed25519"),
        "-c",
        "i18n.commitEncoding=ISO-8859-1",
        "commit",
        "-q",
        "--allow-empty",
        "-F",
        msgFile,
      ]);
      const latin = git(["rev-parse", "HEAD"]);
      if (!catFile(latin).toString("latin1").includes("\nencoding ISO-8859-1\n"))
        throw new Error("no encoding header");
      commits.push({ name: "pgp-latin1-encoding-good", sha: latin, note: "verified; non-UTF-8 bytes" });
    }
    commit(
      "pgp-primary-flag-good",
      "verified; signer = the user ID flagged primary",
      sign("pgp-primary-flag"),
    );
    commit(
      "pgp-expiry-extended",
      "signed in 2020, expiry later extended to never",
      sign("pgp-expiry-extended", oldGpg),
      old,
    );
    commit(
      "pgp-expired-subkey",
      "signing subkey expired (primary valid)",
      [
        "-c",
        "commit.gpgsign=true",
        "-c",
        `user.signingkey=${fingerprints["pgp-expired-subkey"]}`,
        "-c",
        `gpg.program=${oldGpg}`,
      ],
      old,
    );
    commit("pgp-signature-from-the-future", "signature timestamp in 2099", sign("pgp-ed25519", futureGpg));
    commit(
      "pgp-signature-older-than-key",
      "signature timestamp before the key was created",
      sign("pgp-ed25519", beforeKeyGpg),
    );
    commit(
      "pgp-revoked-by-separate-certificate",
      "REVKEYSIG via a revocation certificate file",
      sign("pgp-revoked-separately"),
    );
    tamper(ed1, "pgp", ed2);
    {
      const text = catFile(ed1).toString("latin1");
      const sigStart = text.indexOf("\ngpgsig ") + 1;
      let sigEnd = text.indexOf("\n", sigStart) + 1;
      while (text[sigEnd] === " ") sigEnd = text.indexOf("\n", sigEnd) + 1;
      const payload = text.slice(0, sigStart) + text.slice(sigEnd);
      const indent = (armored: string) => "gpgsig " + armored.trimEnd().split("\n").join("\n ") + "\n";
      const at = (sig: string) =>
        Buffer.from(text.slice(0, sigStart) + indent(sig) + text.slice(sigEnd), "latin1");
      // An inline-signed (not detached) message over the very payload, in the signature header.
      const inline = gpg(["--armor", "--local-user", `${fingerprints["pgp-ed25519"]}!`, "--sign"], payload);
      writeLiteral("pgp-inline-signed-message-instead-of-detached", "edge: PGP MESSAGE armor", at(inline));
      // A clear-signed message.
      const clear = gpg(["--local-user", `${fingerprints["pgp-ed25519"]}!`, "--clearsign"], payload);
      writeLiteral("pgp-clearsigned-message-instead-of-detached", "edge: unknown armor", at(clear));
      // An X.509 (gitsign / gpgsm) signature header: never verified by pullgate.
      writeLiteral(
        "x509-signature",
        "unsupported",
        at(
          "-----BEGIN SIGNED MESSAGE-----\nMIAGCSqGSIb3DQEHAqCAMIACAQExDTALBglghkgBZQMEAgEwgAYJKoZIhvcNAQcB\n-----END SIGNED MESSAGE-----\n",
        ),
      );
    }

    // Revoke the whole key, and only the signing subkey of the other, after they signed.
    const revFile = join(signHome, "openpgp-revocs.d", `${fingerprints["pgp-revoked"]}.rev`);
    gpg(["--import"], readFileSync(revFile, "utf8").replace(/^:-----BEGIN/m, "-----BEGIN"));
    gpg(
      ["--command-fd", "0", "--status-fd", "2", "--edit-key", fingerprints["pgp-subkey-revoked"]!],
      "key 1\nrevkey\ny\n0\n\ny\nsave\n",
    );

    // Extend one expiry; publish another key's revocation as a separate certificate file.
    gpg(["--quick-set-expire", fingerprints["pgp-expiry-extended"]!, "0"]);
    writeFileSync(
      join(keysDir, "pgp-revoked-separately.asc"),
      gpg(["--armor", "--export", fingerprints["pgp-revoked-separately"]!]),
    );
    const sepRev = join(signHome, "openpgp-revocs.d", `${fingerprints["pgp-revoked-separately"]}.rev`);
    writeFileSync(
      join(keysDir, "pgp-revoked-separately.rev.asc"),
      readFileSync(sepRev, "utf8").replace(/^:-----BEGIN/m, "-----BEGIN"),
    );

    for (const name of Object.keys(fingerprints)) {
      if (name === "pgp-unknown" || name === "pgp-revoked-separately") continue;
      writeFileSync(join(keysDir, `${name}.asc`), gpg(["--armor", "--export", fingerprints[name]!]));
    }
    for (const file of readdirSync(keysDir).filter((f) => f.endsWith(".asc")))
      run("gpg", ["--batch", "--import", join(keysDir, file)], { ...env, GNUPGHOME: verifyHome });
  }

  if (opts.ssh) {
    const keygen = (name: string, args: string[]) => {
      const path = join(sshDir, name);
      run("ssh-keygen", ["-q", "-N", "", "-C", name, "-f", path, ...args], env);
      return { path, pub: readFileSync(`${path}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ") };
    };
    const keys = {
      ed25519: keygen("ssh-ed25519", ["-t", "ed25519"]),
      rsa: keygen("ssh-rsa", ["-t", "rsa", "-b", "2048"]),
      p256: keygen("ssh-p256", ["-t", "ecdsa", "-b", "256"]),
      p384: keygen("ssh-p384", ["-t", "ecdsa", "-b", "384"]),
      p521: keygen("ssh-p521", ["-t", "ecdsa", "-b", "521"]),
      unknown: keygen("ssh-unknown", ["-t", "ed25519"]),
      multi: keygen("ssh-multi", ["-t", "ed25519"]),
      wildcard: keygen("ssh-wildcard", ["-t", "ed25519"]),
      expired: keygen("ssh-expired", ["-t", "ed25519"]),
      future: keygen("ssh-future", ["-t", "ed25519"]),
      otherNs: keygen("ssh-other-namespace", ["-t", "ed25519"]),
      windowed: keygen("ssh-windowed", ["-t", "ed25519"]),
    };
    writeFileSync(
      allowedSigners,
      [
        "# trusted SSH signers",
        `ed@example.com ${keys.ed25519.pub} ed's laptop`,
        `rsa@example.com namespaces="git" ${keys.rsa.pub}`,
        `p256@example.com ${keys.p256.pub}`,
        `p384@example.com ${keys.p384.pub}`,
        `"p521@example.com" ${keys.p521.pub}`,
        `one@example.com,two@example.com ${keys.multi.pub}`,
        `*@example.org ${keys.wildcard.pub}`,
        `expired@example.com valid-before="20200101" ${keys.expired.pub}`,
        `future@example.com valid-after="20990101Z" ${keys.future.pub}`,
        `ns@example.com namespaces="file,!git" ${keys.otherNs.pub}`,
        `win@example.com valid-after="20190101",valid-before="20210101" ${keys.windowed.pub}`,
        "this line is not valid",
        "",
      ].join("\n"),
    );
    const ssh = (key: { path: string }) => [
      "-c",
      "gpg.format=ssh",
      "-c",
      `user.signingkey=${key.path}`,
      "-c",
      "commit.gpgsign=true",
    ];
    const old = { GIT_AUTHOR_DATE: "2020-06-01T00:00:00Z", GIT_COMMITTER_DATE: "2020-06-01T00:00:00Z" };
    const s1 = commit("ssh-ed25519-good", "verified", ssh(keys.ed25519));
    const s2 = commit("ssh-ed25519-good-2", "verified", ssh(keys.ed25519));
    commit("ssh-rsa-good", "verified (rsa-sha2-512)", ssh(keys.rsa));
    commit("ssh-p256-good", "verified", ssh(keys.p256));
    commit("ssh-p384-good", "verified", ssh(keys.p384));
    commit("ssh-p521-good", "verified", ssh(keys.p521));
    commit("ssh-multi-principal", "verified", ssh(keys.multi));
    commit("ssh-wildcard-principal", "verified as *@example.org", ssh(keys.wildcard));
    commit("ssh-unknown-key", "not in allowed_signers", ssh(keys.unknown));
    commit("ssh-expired-entry", "valid-before in the past", ssh(keys.expired));
    commit(
      "ssh-expired-entry-old-commit",
      "committed before valid-before: verified (git judges at commit time)",
      ssh(keys.expired),
      {
        GIT_AUTHOR_DATE: "2019-06-01T00:00:00Z",
        GIT_COMMITTER_DATE: "2019-06-01T00:00:00Z",
      },
    );
    commit("ssh-not-yet-valid-entry", "valid-after in the future", ssh(keys.future));
    commit("ssh-namespace-not-git", "namespaces excludes git", ssh(keys.otherNs));
    commit("ssh-window-inside", "commit time inside the window", ssh(keys.windowed), old);
    commit("ssh-window-outside", "commit time after the window", ssh(keys.windowed));
    tamper(s1, "ssh", s2);
  }

  return {
    dir,
    repo,
    keysDir,
    signHome,
    verifyHome,
    allowedSigners,
    commits,
    fingerprints,
    env,
    cleanup: () => {
      // Stop the gpg-agent the signing home started, then remove everything.
      for (const home of [signHome, verifyHome])
        spawnSync("gpgconf", ["--kill", "gpg-agent"], { env: { ...env, GNUPGHOME: home } });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface GitVerdict {
  verified: boolean;
  /** OpenPGP: primary fingerprint from VALIDSIG; SSH: the principal from ssh-keygen's "Good" line. */
  signer: string | null;
  sshFingerprint: string | null;
  /** OpenPGP: the user ID gpg names in GOODSIG. */
  userId: string | null;
  output: string;
}

/** The reference: `git verify-commit --raw` with the verifying GNUPGHOME and allowed_signers. */
export function gitVerify(fx: Fixture, sha: string): GitVerdict {
  const result = spawnSync(
    "git",
    ["-c", `gpg.ssh.allowedSignersFile=${fx.allowedSigners}`, "verify-commit", "--raw", sha],
    { cwd: fx.repo, env: { ...fx.env, GNUPGHOME: fx.verifyHome }, encoding: "utf8" },
  );
  const output = `${result.stdout}${result.stderr}`;
  const validsig = /^\[GNUPG:\] VALIDSIG (?:\S+ ){9}([0-9A-F]{40})$/m.exec(output);
  const good = /^Good "git" signature for (.*) with \S+ key (SHA256:\S+)$/m.exec(output);
  return {
    verified: result.status === 0,
    signer: validsig?.[1] ?? good?.[1] ?? null,
    sshFingerprint: good?.[2] ?? null,
    userId: /^\[GNUPG:\] GOODSIG \S+ (.*)$/m.exec(output)?.[1] ?? null,
    output,
  };
}
