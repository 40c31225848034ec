/**
 * Renders every kustomization under deploy/ and validates each object against the pinned Kubernetes
 * and CRD schemas (test/deploy/k8s-schemas.ts), so a typo, a wrong type or a missing required field
 * fails CI instead of the cluster. Then checks the manifests against what the code expects: the
 * variables `pullgate serve` reads, the probe paths, the agent's flags, the image's port and user.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { command as agentCommand } from "../../src/cli/commands/agent.js";
import { serveConfigFromEnv } from "../../src/cli/commands/serve.js";
import { RECORD_TARGET_OPTIONS } from "../../src/cli/record-target.js";
import { validateObject } from "./k8s-schemas.js";
import { KustomizeError, renderKustomization, type K8sObject } from "./kustomize.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DEPLOY = join(ROOT, "deploy");
const KUSTOMIZATIONS = ["app", "agent", "examples/with-redis", "examples/flux", "examples/argocd"];

type Obj = Record<string, unknown>;
const asObj = (value: unknown): Obj => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("not an object");
  return value as Obj;
};
const asList = (value: unknown): Obj[] => {
  if (!Array.isArray(value)) throw new Error("not a list");
  return value.map(asObj);
};

function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && asObj(o.metadata).name === name);
  if (!found) throw new Error(`${kind} ${name} not rendered`);
  return found;
}
const podSpec = (deployment: K8sObject) => asObj(asObj(asObj(deployment.spec).template).spec);
const container = (deployment: K8sObject, index = 0) => {
  const c = asList(podSpec(deployment).containers)[index];
  if (!c) throw new Error("no container");
  return c;
};

describe("deploy/ manifests", () => {
  it.each(KUSTOMIZATIONS)("%s renders and every object is valid against its schema", async (dir) => {
    const objects = renderKustomization(join(DEPLOY, dir));
    expect(objects.length).toBeGreaterThan(0);
    for (const object of objects) {
      const where = `${dir}: ${object.kind} ${String(asObj(object.metadata).name)}`;
      expect(await validateObject(object), where).toEqual([]);
    }
  });

  it("the app runs unprivileged with a read-only root, probes, limits and the image of the Dockerfile", () => {
    const objects = renderKustomization(join(DEPLOY, "app"));
    const deployment = find(objects, "Deployment", "pullgate");
    expect(asObj(deployment.metadata).namespace).toBe("pullgate");
    const pod = podSpec(deployment);
    const app = container(deployment);
    const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
    // The Dockerfile's port, user and entrypoint: the manifest passes only the subcommand.
    expect(dockerfile).toMatch(/^EXPOSE 3000$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \[.*"bin\/pullgate\.js"\]$/m);
    expect(app.command).toBeUndefined();
    expect(app.args).toEqual(["serve"]);
    expect(app.image).toBe("registry.example.com/pullgate/pullgate:0.1.0");
    expect(asList(app.ports)).toEqual([{ name: "http", containerPort: 3000, protocol: "TCP" }]);

    expect(asObj(pod.securityContext)).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(asObj(app.securityContext)).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(asObj(asObj(app.livenessProbe).httpGet)).toEqual({ path: "/healthz", port: "http" });
    expect(asObj(asObj(app.readinessProbe).httpGet)).toEqual({ path: "/readyz", port: "http" });
    const resources = asObj(app.resources);
    expect(Object.keys(asObj(resources.requests)).sort()).toEqual(["cpu", "memory"]);
    expect(Object.keys(asObj(resources.limits)).sort()).toEqual(["cpu", "memory"]);

    const service = find(objects, "Service", "pullgate");
    expect(asObj(asObj(service.spec).selector)).toEqual(
      asObj(asObj(asObj(deployment.spec).selector).matchLabels),
    );
    expect(asList(asObj(service.spec).ports)[0]).toMatchObject({ targetPort: "http" });
  });

  describe("pullgate serve accepts the environment the Deployment gives it", () => {
    const dir = mkdtempSync(join(tmpdir(), "pullgate-deploy-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("every variable is one serve reads, secrets come from Secrets, keys from mounted files", () => {
      const deployment = find(renderKustomization(join(DEPLOY, "app")), "Deployment", "pullgate");
      const app = container(deployment);
      const volumes = asList(podSpec(deployment).volumes);
      const mounts = asList(app.volumeMounts);
      const serveSource = readFileSync(join(ROOT, "src/cli/commands/serve.ts"), "utf8");
      const dockerEnv = readFileSync(join(ROOT, "Dockerfile"), "utf8");
      const env: Record<string, string> = {};
      const fromSecrets: string[] = [];
      for (const entry of asList(app.env)) {
        const name = String(entry.name);
        // HOME is for git; every other variable is read by serve or named in the image.
        if (name !== "HOME")
          expect(serveSource.includes(`env.${name}`) || dockerEnv.includes(`${name}=`), name).toBe(true);
        if (entry.valueFrom !== undefined) {
          const ref = asObj(asObj(entry.valueFrom).secretKeyRef);
          expect(typeof ref.name, name).toBe("string");
          fromSecrets.push(name);
          if (name === "APP_ID") env[name] = "12345";
          else if (ref.optional !== true) env[name] = `secret-${name}`;
          continue;
        }
        env[name] = String(entry.value);
      }
      expect(fromSecrets.sort()).toEqual(["APP_ID", "PULLGATE_SIGNING_PASSPHRASE", "WEBHOOK_SECRET"]);
      // No key material in a variable: the key paths point at Secret volumes, at the item they mount.
      expect(env.PRIVATE_KEY).toBeUndefined();
      expect(env.PULLGATE_SIGNING_KEY).toBeUndefined();
      for (const [variable, secretName] of [
        ["PRIVATE_KEY_PATH", "pullgate-github-app"],
        ["PULLGATE_SIGNING_KEY_FILE", "pullgate-signing-key"],
      ] as const) {
        const path = env[variable];
        if (path === undefined) throw new Error(`${variable} missing`);
        const volume = volumes.find(
          (v) => v.secret !== undefined && asObj(v.secret).secretName === secretName,
        );
        if (!volume) throw new Error(`no volume for Secret ${secretName}`);
        const mount = mounts.find((m) => m.name === volume.name);
        if (!mount) throw new Error(`Secret ${secretName} is not mounted`);
        expect(mount.readOnly).toBe(true);
        const items = asList(asObj(volume.secret).items).map(
          (item) => `${String(mount.mountPath)}/${String(item.path)}`,
        );
        expect(items).toContain(path);
        // Run serve's own parsing with the mounted files stood in by temporary ones.
        const stand = join(dir, variable);
        writeFileSync(stand, "-----BEGIN PRIVATE KEY-----\nstand-in\n-----END PRIVATE KEY-----\n");
        env[variable] = stand;
      }
      const config = serveConfigFromEnv(env);
      expect(config.port).toBe(asList(app.ports)[0]?.containerPort);
      expect(config.host).toBe("0.0.0.0");
      expect(config.reconcileIntervalMs).toBe(5 * 60_000);
      expect(config.redisUrl).toBeUndefined();
      expect(config.signingKey).toContain("stand-in");
    });
  });

  it("the Redis component adds REDIS_URL pointing at its Service, and only the app may reach it", () => {
    const objects = renderKustomization(join(DEPLOY, "examples/with-redis"));
    const app = container(find(objects, "Deployment", "pullgate"));
    const redisUrl = asList(app.env).find((e) => e.name === "REDIS_URL");
    const service = find(objects, "Service", "pullgate-redis");
    const port = asList(asObj(service.spec).ports)[0]?.port;
    expect(redisUrl?.value).toBe(`redis://${String(asObj(service.metadata).name)}:${String(port)}`);
    for (const object of objects) expect(asObj(object.metadata).namespace).toBe("pullgate");
    const redis = find(objects, "Deployment", "pullgate-redis");
    expect(asObj(podSpec(redis).securityContext)).toMatchObject({ runAsNonRoot: true });
    expect(asObj(container(redis).securityContext)).toMatchObject({ readOnlyRootFilesystem: true });
    const policy = asObj(find(objects, "NetworkPolicy", "pullgate-redis").spec);
    expect(asObj(policy.podSelector).matchLabels).toEqual(asObj(service.spec).selector);
    // The app base alone has no Redis and no REDIS_URL.
    const base = container(find(renderKustomization(join(DEPLOY, "app")), "Deployment", "pullgate"));
    expect(asList(base.env).some((e) => e.name === "REDIS_URL")).toBe(false);
  });

  it("the agent's flags are ones `pullgate agent` takes, and its state is on the PersistentVolumeClaim", () => {
    const objects = renderKustomization(join(DEPLOY, "agent"));
    const deployment = find(objects, "Deployment", "pullgate-agent");
    const agent = container(deployment);
    const args = (agent.args as unknown[]).map(String);
    expect(args[0]).toBe("agent");
    const known = new Set([
      ...Object.keys(RECORD_TARGET_OPTIONS),
      ...[...agentCommand.usage.matchAll(/--([a-z-]+)/g)].map((m) => m[1]),
    ]);
    const flags = args.filter((a) => a.startsWith("--")).map((a) => a.slice(2));
    for (const flag of flags) expect(known.has(flag), `--${flag}`).toBe(true);
    const flag = (name: string) =>
      args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined;
    for (const required of ["repo", "environment", "keys", "workdir"]) expect(flag(required)).toBeTruthy();
    expect(flag("environment")).toBe("production");

    const pvc = find(objects, "PersistentVolumeClaim", "pullgate-agent-state");
    const volumes = asList(podSpec(deployment).volumes);
    const mounts = asList(agent.volumeMounts);
    const stateVolume = volumes.find(
      (v) =>
        v.persistentVolumeClaim !== undefined &&
        asObj(v.persistentVolumeClaim).claimName === asObj(pvc.metadata).name,
    );
    const stateMount = mounts.find((m) => m.name === stateVolume?.name);
    // The workdir (and the state beside it, the default without --state) is on the claim.
    expect(flag("state")).toBeUndefined();
    expect(flag("workdir")?.startsWith(`${String(stateMount?.mountPath)}/`)).toBe(true);
    const keysMount = mounts.find((m) => m.mountPath === flag("keys"));
    expect(volumes.find((v) => v.name === keysMount?.name)?.configMap).toBeDefined();
    // One agent per state, and the kubelet waits out --shutdown-grace (20s) + 5s of SIGKILL delay.
    expect(asObj(deployment.spec).replicas).toBe(1);
    expect(asObj(asObj(deployment.spec).strategy).type).toBe("Recreate");
    expect(Number(podSpec(deployment).terminationGracePeriodSeconds)).toBeGreaterThan(25);
    expect(asObj(agent.securityContext)).toMatchObject({ readOnlyRootFilesystem: true });
    expect(asObj(podSpec(deployment).securityContext)).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    const metricsPort = asList(agent.ports).find((p) => p.name === "metrics")?.containerPort;
    expect(String(metricsPort)).toBe(flag("metrics-port"));
  });

  it("Flux and Argo CD follow approved/production and verify its signature", () => {
    const flux = renderKustomization(join(DEPLOY, "examples/flux"));
    const repo = asObj(find(flux, "GitRepository", "deploy-production").spec);
    expect(asObj(repo.ref)).toEqual({ branch: "approved/production" });
    expect(asObj(repo.verify)).toEqual({ mode: "HEAD", secretRef: { name: "pullgate-public-keys" } });
    const sourceRef = asObj(asObj(find(flux, "Kustomization", "production").spec).sourceRef);
    expect(sourceRef).toEqual({ kind: "GitRepository", name: "deploy-production" });

    const argo = renderKustomization(join(DEPLOY, "examples/argocd"));
    const project = asObj(find(argo, "AppProject", "production").spec);
    expect(asList(project.signatureKeys)[0]?.keyID).toMatch(/^[0-9A-F]{16}$/);
    const app = asObj(find(argo, "Application", "deploy-production").spec);
    expect(app.project).toBe("production");
    expect(asObj(app.source).targetRevision).toBe("approved/production");
  });
});

describe("the schema check catches broken manifests", () => {
  const appDeployment = () => find(renderKustomization(join(DEPLOY, "app")), "Deployment", "pullgate");

  it("a typo'd field (readinesProbe) is an unknown field", async () => {
    const deployment = appDeployment();
    const app = container(deployment);
    app.readinesProbe = app.readinessProbe;
    delete app.readinessProbe;
    expect(await validateObject(deployment)).toEqual([
      "/spec/template/spec/containers/0/readinesProbe: unknown field",
    ]);
  });

  it("a typo at the top level and in a map-valued field's sibling are unknown too", async () => {
    const deployment = appDeployment();
    asObj(deployment.spec).replica = 2;
    asObj(asObj(container(deployment).resources).limits).memory = "512Mi";
    asObj(container(deployment).resources).limit = { cpu: "1" };
    expect(await validateObject(deployment)).toEqual([
      "/spec/template/spec/containers/0/resources/limit: unknown field",
      "/spec/replica: unknown field",
    ]);
  });

  it("a wrong type fails", async () => {
    const deployment = appDeployment();
    asObj(deployment.spec).replicas = "2";
    const problems = await validateObject(deployment);
    expect(problems).toEqual([expect.stringMatching(/^\/spec\/replicas: type .*integer/)]);
  });

  it("a missing required field fails", async () => {
    const deployment = appDeployment();
    delete asObj(deployment.spec).selector;
    expect(await validateObject(deployment)).toEqual([expect.stringMatching(/^\/spec: required .*selector/)]);
    const noImage = appDeployment();
    delete container(noImage).name;
    expect(await validateObject(noImage)).toEqual([
      expect.stringMatching(/^\/spec\/template\/spec\/containers\/0: required .*name/),
    ]);
  });

  it("the CRD schemas catch the same in Flux and Argo CD objects", async () => {
    const flux = renderKustomization(join(DEPLOY, "examples/flux"));
    const repo = find(flux, "GitRepository", "deploy-production");
    // Flux takes HEAD, Tag, TagAndHEAD (and the older lowercase head), nothing else.
    asObj(asObj(repo.spec).verify).mode = "Head";
    expect(await validateObject(repo)).toEqual([expect.stringMatching(/^\/spec\/verify\/mode: enum/)]);
    const noUrl = find(
      renderKustomization(join(DEPLOY, "examples/flux")),
      "GitRepository",
      "deploy-production",
    );
    delete asObj(noUrl.spec).url;
    expect(await validateObject(noUrl)).toEqual([expect.stringMatching(/^\/spec: required .*url/)]);

    const argo = renderKustomization(join(DEPLOY, "examples/argocd"));
    const app = find(argo, "Application", "deploy-production");
    const source = asObj(asObj(app.spec).source);
    source.targetRevison = source.targetRevision;
    delete source.targetRevision;
    expect(await validateObject(app)).toEqual(["/spec/source/targetRevison: unknown field"]);
  });

  it("a kind without a pinned schema is refused, not waved through", async () => {
    await expect(validateObject({ apiVersion: "v1", kind: "Pod" })).rejects.toThrow(/no schema pinned/);
  });
});

describe("the renderer refuses what it does not implement", () => {
  const scratch = mkdtempSync(join(tmpdir(), "pullgate-kustomize-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    writeFileSync(join(scratch, name), text);
  };

  it("an unsupported kustomization feature is an error", () => {
    write(
      "kustomization.yaml",
      "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [cm.yaml]\ncommonLabels: {a: b}\n",
    );
    write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n");
    expect(() => renderKustomization(scratch)).toThrow(KustomizeError);
    expect(() => renderKustomization(scratch)).toThrow(/commonLabels is not supported/);
  });

  it("a patch whose target matches nothing is an error", () => {
    write(
      "kustomization.yaml",
      [
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        "resources: [cm.yaml]",
        "patches:",
        "  - target: {kind: ConfigMap, name: y}",
        "    patch: '[{op: add, path: /data, value: {}}]'",
        "",
      ].join("\n"),
    );
    expect(() => renderKustomization(scratch)).toThrow(/matches nothing/);
  });

  it("namespace, images and JSON patches apply as kustomize applies them", () => {
    write(
      "kustomization.yaml",
      [
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        "namespace: ns",
        "resources: [cm.yaml]",
        "images: [{name: pullgate, newName: r.example/p, newTag: '2'}]",
        "patches:",
        "  - target: {kind: ConfigMap, name: x}",
        "    patch: '[{op: add, path: /data, value: {k: v}}, {op: replace, path: /metadata/name, value: z}]'",
        "",
      ].join("\n"),
    );
    expect(renderKustomization(scratch)).toEqual([
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "z", namespace: "ns" }, data: { k: "v" } },
    ]);
  });
});
