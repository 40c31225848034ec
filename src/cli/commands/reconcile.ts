import type { Command } from "../command.js";
import { parseCommandArgs } from "../args.js";
import { EXIT_FAILURE, EXIT_OK, UsageError } from "../errors.js";
import { printJson, type CliIo } from "../io.js";
import { serveConfigFromEnv } from "./serve.js";

const USAGE = "reconcile [--org ORG] [--repo OWNER/NAME] [--json]";

/**
 * One reconciliation sweep (docs/operations.md, "Outages and recovery"), with the app's own
 * credentials (the environment of `pullgate serve`): records for approved landings that have
 * none, alerts for landings that bypassed pullgate, re-evaluation of stale checks, and (without a
 * scope) redelivery of failed webhook deliveries. With REDIS_URL it takes the same lease as the
 * running replicas, so it never sweeps alongside them. Exit 1 when the sweep was incomplete
 * (budget) or met errors.
 */
export const command: Command = {
  usage: USAGE,
  summary:
    "Run one reconciliation sweep: publish missing records, raise missed alerts, re-evaluate stale checks",
  async run(argv, io: CliIo) {
    const { values } = parseCommandArgs(
      argv,
      { org: { type: "string" }, repo: { type: "string" }, budget: { type: "string" } },
      false,
    );
    let repo: { owner: string; repo: string } | undefined;
    if (values.repo !== undefined) {
      const m = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(values.repo);
      if (!m || !m[1] || !m[2]) throw new UsageError(`--repo ${values.repo} is not OWNER/NAME`);
      repo = { owner: m[1], repo: m[2] };
    }
    const budget = values.budget === undefined ? 2_000 : Number(values.budget);
    if (!Number.isInteger(budget) || budget <= 0)
      throw new UsageError(`--budget ${values.budget} is not a positive integer`);
    // A sweep receives no webhooks: the secret is not needed here.
    const config = serveConfigFromEnv({ WEBHOOK_SECRET: "not-used-by-reconcile", ...io.env });
    const [{ Probot }, { loadSigner, connectReconcileLease }, { startReconcileLoop }, { pullgateMetrics }] =
      await Promise.all([
        import("probot"),
        import("../../server.js"),
        import("../../github/reconcile/loop.js"),
        import("../../metrics.js"),
      ]);
    const probot = new Probot({
      appId: config.appId,
      privateKey: config.privateKey,
      ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}),
      logLevel: (io.env.LOG_LEVEL as "info" | undefined) ?? "warn",
    });
    const signer = config.signingKey ? await loadSigner(config.signingKey, config.signingPassphrase) : null;
    if (!signer && !values.json)
      io.stderr(
        "pullgate: no PULLGATE_SIGNING_KEY(_FILE): no records are published, only checks re-evaluated",
      );
    const loop = await startReconcileLoop({
      probot,
      appId: config.appId,
      signer,
      metrics: pullgateMetrics(),
      evaluationTimeoutMs: 60_000,
      intervalMs: 0,
      requestBudget: budget,
      redeliver: repo === undefined && values.org === undefined,
      ...(config.redisUrl
        ? { lease: await connectReconcileLease(config.redisUrl, config.appId, probot) }
        : {}),
    });
    try {
      const report = await loop.sweep({
        ...(values.org !== undefined ? { org: values.org } : {}),
        ...(repo ? { repo } : {}),
      });
      if (report === null) {
        if (values.json) printJson(io, { skipped: "another sweep holds the lease" });
        else io.stdout("another sweep holds the reconcile lease (a running replica): nothing done");
        return EXIT_OK;
      }
      if (values.json) printJson(io, report);
      else {
        io.stdout(
          `swept ${report.repositories} repositories (${report.governedBranches} governed branches) in ${report.requests} requests${report.complete ? "" : `; budget spent, the next sweep resumes after ${report.resumeAfter}`}`,
        );
        for (const p of report.published)
          io.stdout(
            `published record #${p.sequence} ${p.record} for ${p.repository} ${p.environment} (${p.commit})`,
          );
        for (const a of report.alerted)
          io.stdout(`alert: ${a.repository} ${a.branch} ${a.commit}: ${a.reason}`);
        for (const r of report.reevaluated) io.stdout(`re-evaluated ${r.repository}#${r.number}: ${r.why}`);
        if (report.redeliveriesRequested > 0)
          io.stdout(`asked GitHub to redeliver ${report.redeliveriesRequested} webhook deliveries`);
        for (const e of report.errors) io.stderr(`error: ${e.where}: ${e.message}`);
      }
      return report.complete && report.errors.length === 0 ? EXIT_OK : EXIT_FAILURE;
    } finally {
      await loop.close();
    }
  },
};
