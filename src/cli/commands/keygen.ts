import { mkdir, open, readFile } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import { parseCommandArgs, requireOption } from "../args.js";
import type { Command } from "../command.js";
import { EXIT_OK, IoError, UsageError } from "../errors.js";
import { printJson } from "../io.js";
import { generateRecordKey } from "../../record/keys.js";

/** Creates a file that must not exist yet, with the given mode (a key is never silently replaced). */
async function writeNew(path: string, text: string, mode: number): Promise<void> {
  let handle;
  try {
    handle = await open(path, "wx", mode);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new IoError(
      code === "EEXIST"
        ? `${path} already exists; not overwriting a key`
        : `cannot create ${path}: ${(error as Error).message}`,
    );
  }
  try {
    await handle.writeFile(text, "utf8");
    await handle.chmod(mode); // open's mode is filtered by the umask; the contract says 0600
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export const command: Command = {
  usage: "keygen --name N --email E --out DIR [--passphrase-file FILE] [--json]",
  summary: "Generate the app's record-signing OpenPGP key pair (v4 ed25519, GnuPG-compatible)",
  async run(argv, io) {
    const { values } = parseCommandArgs(
      argv,
      {
        name: { type: "string" },
        email: { type: "string" },
        out: { type: "string" },
        "passphrase-file": { type: "string" },
      },
      false,
    );
    const name = requireOption(values.name, "name");
    const email = requireOption(values.email, "email");
    const out = resolve(io.cwd, requireOption(values.out, "out"));
    if (/[<>\n]/.test(name) || name.trim() !== name)
      throw new UsageError("--name must not contain <, > or newlines");
    if (!/^[^\s<>@]+@[^\s<>@]+$/.test(email)) throw new UsageError("--email must look like user@host");

    let passphrase: string | undefined;
    const passphraseFile = values["passphrase-file"];
    if (passphraseFile !== undefined) {
      try {
        passphrase = (
          await readFile(
            isAbsolute(passphraseFile) ? passphraseFile : resolve(io.cwd, passphraseFile),
            "utf8",
          )
        ).replace(/\r?\n$/, "");
      } catch (error) {
        throw new IoError(`cannot read --passphrase-file: ${(error as Error).message}`);
      }
      if (passphrase === "") throw new UsageError("--passphrase-file is empty");
    }

    const pair = await generateRecordKey({
      name,
      email,
      ...(passphrase === undefined ? {} : { passphrase }),
    });
    try {
      await mkdir(out, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new IoError(`cannot create ${out}: ${(error as Error).message}`);
    }
    const privatePath = join(out, "private.asc");
    const publicPath = join(out, "public.asc");
    await writeNew(privatePath, pair.privateKey, 0o600);
    await writeNew(publicPath, pair.publicKey, 0o644);

    if (values.json) {
      printJson(io, {
        fingerprint: pair.fingerprint,
        privateKey: privatePath,
        publicKey: publicPath,
        encrypted: passphrase !== undefined,
      });
    } else {
      io.stdout(`key ${pair.fingerprint}\n  private: ${privatePath} (mode 0600)\n  public:  ${publicPath}`);
    }
    return EXIT_OK;
  },
};
