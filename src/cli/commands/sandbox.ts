import type { Command } from "../command.js";
import { parseCommandArgs, requireOption } from "../args.js";
import { UsageError } from "../errors.js";
import { resolve } from "node:path";

/**
 * `pullgate sandbox`: serves the local GitHub emulator until SIGINT/SIGTERM. With --json the
 * first stdout line is the connection document (docs/architecture.md, "CLI contract").
 */
export const command: Command = {
  usage: "sandbox --dir DIR [--port N] [--app-webhook URL] [--no-strict] [--json]",
  summary: "Serve a local GitHub emulator (REST API, git smart HTTP, one pre-registered app) until killed",
  async run(argv, io) {
    const { values } = parseCommandArgs(
      argv,
      {
        dir: { type: "string" },
        port: { type: "string" },
        "app-webhook": { type: "string" },
        "no-strict": { type: "boolean", default: false },
      },
      false,
    );
    const dir = resolve(io.cwd, requireOption(values.dir, "dir"));
    let port: number | undefined;
    if (values.port !== undefined) {
      port = Number(values.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError(`--port must be 0-65535, got ${values.port}`);
    }
    const webhook = values["app-webhook"];
    if (webhook !== undefined && !/^https?:\/\//.test(webhook))
      throw new UsageError("--app-webhook must be an http(s) URL");
    const { startSandbox } = await import("@pullgate/sandbox");
    const sandbox = await startSandbox({
      dir,
      port,
      appWebhookUrl: webhook,
      strict: values["no-strict"] !== true,
    });
    const info = {
      api: sandbox.apiUrl,
      git: sandbox.gitUrl,
      adminToken: sandbox.adminToken,
      app: {
        id: sandbox.app.id,
        privateKeyPath: sandbox.app.privateKeyPath,
        webhookSecret: sandbox.app.webhookSecret,
      },
    };
    if (values.json === true) io.stdout(JSON.stringify(info));
    else {
      io.stdout(
        [
          `sandbox serving ${sandbox.apiUrl} (git at ${sandbox.gitUrl}{owner}/{repo}.git)`,
          `admin token:      ${sandbox.adminToken}`,
          `app id:           ${sandbox.app.id}`,
          `app private key:  ${sandbox.app.privateKeyPath}`,
          `webhook secret:   ${sandbox.app.webhookSecret}`,
          `web-flow key:     ${sandbox.webFlowPublicKeyPath}`,
          `app webhooks to:  ${webhook ?? "(not sent; set with PATCH /sandbox/app)"}`,
        ].join("\n"),
      );
    }
    await new Promise<void>((resolveStop) => {
      const stop = () => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        resolveStop();
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    io.stderr("sandbox: shutting down");
    await sandbox.close();
    return 0;
  },
};
