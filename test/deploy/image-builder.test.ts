/**
 * deploy/examples/image-builder: the manifests render and validate like every deploy/ manifest,
 * keep the registry credential in the builder container only, and carry build.sh and builder.sh
 * verbatim. Then the example runs for real as far as this machine allows: `pullgate agent` against
 * a repository with signed records runs build.sh, and the builder loop (builder.sh, with a stand-in
 * for kaniko that writes what it was asked to build, since no container runtime exists here)
 * builds once per new verified record, never for a tampered or foreign record or a commit nobody
 * approved.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { command as agentCommand } from "../../src/cli/commands/agent.js";
import type { CliIo } from "../../src/cli/io.js";
import { main } from "../../src/cli/main.js";
import { signRecord } from "../../src/record/index.js";
import {
  commitFiles,
  fieldsFor,
  git,
  makeKey,
  makeRepo,
  publishRecord,
  removeDir,
  tempDir,
  writeCommit,
  type TestKey,
} from "../record/helpers.js";
import { validateObject } from "./k8s-schemas.js";
import { renderKustomization, type K8sObject } from "./kustomize.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const EXAMPLE = join(ROOT, "deploy/examples/image-builder");

type Obj = Record<string, unknown>;
const asObj = (value: unknown): Obj => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("not an object");
  return value as Obj;
};
const asList = (value: unknown): Obj[] => {
  if (!Array.isArray(value)) throw new Error("not a list");
  return value.map(asObj);
};
const named = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const found = objects.find((o) => o.kind === kind && asObj(o.metadata).name === name);
  if (!found) throw new Error(`${kind} ${name} not rendered`);
  return found;
};

describe("deploy/examples/image-builder manifests", () => {
  const objects = renderKustomization(EXAMPLE);
  const deployment = named(objects, "Deployment", "image-builder");
  const pod = asObj(asObj(asObj(deployment.spec).template).spec);
  const containers = asList(pod.containers);
  const byName = (name: string) => {
    const c = containers.find((x) => x.name === name);
    if (!c) throw new Error(`no container ${name}`);
    return c;
  };

  it("renders, and every object is valid against its schema", async () => {
    expect(objects.map((o) => o.kind).sort()).toEqual(["ConfigMap", "Deployment", "PersistentVolumeClaim"]);
    for (const object of objects) {
      expect(await validateObject(object), `${object.kind} ${String(asObj(object.metadata).name)}`).toEqual(
        [],
      );
    }
  });

  it("the agent runs build.sh with flags `pullgate agent` takes, unprivileged and without the registry credential", () => {
    const agent = byName("agent");
    const args = (agent.args as unknown[]).map(String);
    expect(args[0]).toBe("agent");
    const known = new Set([...agentCommand.usage.matchAll(/--([a-z-]+)/g)].map((m) => m[1]));
    for (const flag of args.filter((a) => a.startsWith("--"))) expect(known, flag).toContain(flag.slice(2));
    expect(args[args.indexOf("--exec") + 1]).toBe("sh /scripts/build.sh");
    expect(args[args.indexOf("--repo") + 1]).toMatch(/^https:\/\/github\.com\/.+\.git$/);
    expect(asObj(agent.securityContext)).toMatchObject({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(asList(agent.volumeMounts).map((m) => m.name)).not.toContain("registry-push");
  });

  it("only the builder mounts the registry Secret; it is kaniko, not privileged, with no host path", () => {
    const builder = byName("builder");
    expect(String(builder.image)).toMatch(/^gcr\.io\/kaniko-project\/executor:v[0-9.]+-debug$/);
    expect(asObj(builder.securityContext)).toMatchObject({
      privileged: false,
      allowPrivilegeEscalation: false,
    });
    expect(asList(builder.volumeMounts).find((m) => m.name === "registry-push")).toMatchObject({
      mountPath: "/kaniko/.docker",
      readOnly: true,
    });
    const volumes = asList(pod.volumes);
    expect(volumes.filter((v) => "hostPath" in v)).toEqual([]);
    expect(asObj(volumes.find((v) => v.name === "registry-push")?.secret).secretName).toBe("registry-push");
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it("the ConfigMap carries build.sh and builder.sh exactly as they are beside it", () => {
    const data = asObj(named(objects, "ConfigMap", "image-builder-scripts").data);
    expect(data["build.sh"]).toBe(readFileSync(join(EXAMPLE, "build.sh"), "utf8"));
    expect(data["builder.sh"]).toBe(readFileSync(join(EXAMPLE, "builder.sh"), "utf8"));
  });
});

describe("the image builder, run for real: one build per new verified record", () => {
  let root: string;
  let key: TestKey;
  let stranger: TestKey;
  let keys: string;
  let builder: ChildProcess | undefined;
  let spool: string;
  let builds: string;
  let bare: string;
  let work: string;

  beforeAll(async () => {
    root = tempDir("image-builder");
    [key, stranger] = await Promise.all([makeKey(), makeKey("stranger", "stranger@example.com")]);
    keys = join(root, "public.asc");
    writeFileSync(keys, key.publicKey);
    ({ bare, work } = makeRepo(join(root, "repo")));
    spool = join(root, "spool");
    mkdirSync(spool);
    builds = join(root, "builds.log");
    // The stand-in for /kaniko/executor: records what it was asked to build and from which tree.
    const kaniko = join(root, "kaniko");
    writeFileSync(
      kaniko,
      [
        "#!/bin/sh",
        "set -eu",
        'context=""; destination=""; digest=/dev/null',
        'while [ $# -gt 0 ]; do case "$1" in',
        '  --context) context="${2#dir://}"; shift 2 ;;',
        '  --destination) destination="$2"; shift 2 ;;',
        '  --digest-file) digest="$2"; shift 2 ;;',
        "  *) shift ;;",
        "esac; done",
        `echo "$destination $(cat "$context/app.txt")" >> ${JSON.stringify(builds)}`,
        'echo "sha256:0000" > "$digest"',
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    builder = spawn("sh", [join(EXAMPLE, "builder.sh")], {
      env: {
        ...process.env,
        BUILD_SPOOL: spool,
        KANIKO: kaniko,
        IMAGE: "registry.example.test/acme/app",
        BUILD_POLL_SECONDS: "0.1",
      },
      stdio: "ignore",
    });
  });
  afterAll(() => {
    builder?.kill("SIGTERM");
    removeDir(root);
  });

  const agentOnce = async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      env: { ...process.env, BUILD_SPOOL: spool, BUILD_TIMEOUT_SECONDS: "60" },
      cwd: root,
    };
    const code = await main(
      [
        "agent",
        "--once",
        "--json",
        "--repo",
        bare,
        "--environment",
        "production",
        "--keys",
        keys,
        "--workdir",
        join(root, "deploy"),
        "--exec",
        `sh ${join(EXAMPLE, "build.sh")}`,
      ],
      io,
    );
    return { code, json: JSON.parse(out[0] ?? "null") as Obj, err: err.join("\n") };
  };
  const built = () => (existsSync(builds) ? readFileSync(builds, "utf8").trim().split("\n") : []);
  const image = (commit: string) => `registry.example.test/acme/app:${commit}`;

  it("builds the first verified record's source commit, once", async () => {
    const s1 = commitFiles(work, { Dockerfile: "FROM scratch\nCOPY app.txt /\n", "app.txt": "v1" });
    await publishRecord(bare, key, s1, 1, null);
    const first = await agentOnce();
    expect(first.json).toMatchObject({ verified: true, sequence: 1, deployed: true });
    expect(built()).toEqual([`${image(s1.commit)} v1`]);
    // Nothing new: no build.
    expect((await agentOnce()).json).toMatchObject({ verified: true, sequence: 1 });
    expect(built()).toEqual([`${image(s1.commit)} v1`]);
    // Every request was answered and cleaned up.
    expect(readdirSync(spool)).toEqual([]);
  });

  it("never builds a commit nobody approved, a tampered record or a foreign-signed one", async () => {
    const before = built();
    const r1 = git(["rev-parse", "refs/heads/approved/production"], { cwd: bare }).trim();
    // A commit on main without a record: the agent watches approved/production only.
    const unapproved = commitFiles(work, { "app.txt": "v2-unapproved" });
    expect((await agentOnce()).json).toMatchObject({ verified: true, sequence: 1 });

    // Pushed straight onto approved/production: not a record.
    git(["update-ref", "refs/heads/approved/production", unapproved.commit], { cwd: bare });
    expect((await agentOnce()).json).toMatchObject({ verified: false });

    // A genuine record with a field changed after signing.
    const genuine = await signRecord(
      {
        fields: fieldsFor(key, unapproved, 2),
        previousRecord: r1,
        identity: { name: "pullgate[bot]", email: "pullgate@example.com" },
      },
      key.signingKey,
    );
    const tampered = genuine.signedRaw.replace("Pullgate-Approved-By: bob", "Pullgate-Approved-By: eve");
    expect(tampered).not.toBe(genuine.signedRaw);
    git(["update-ref", "refs/heads/approved/production", writeCommit(bare, tampered)], { cwd: bare });
    expect((await agentOnce()).json).toMatchObject({ verified: false, code: "SIGNATURE_INVALID" });

    // A well-formed record signed by a key the agent does not pin.
    git(["update-ref", "refs/heads/approved/production", r1], { cwd: bare });
    await publishRecord(bare, stranger, unapproved, 2, r1);
    expect((await agentOnce()).json).toMatchObject({ verified: false });

    expect(built()).toEqual(before);
    git(["update-ref", "refs/heads/approved/production", r1], { cwd: bare });
  });

  it("builds the next genuine record, and only it", async () => {
    const r1 = git(["rev-parse", "refs/heads/approved/production"], { cwd: bare }).trim();
    const s3 = commitFiles(work, { "app.txt": "v3" });
    await publishRecord(bare, key, s3, 2, r1);
    expect((await agentOnce()).json).toMatchObject({ verified: true, sequence: 2, deployed: true });
    const lines = built();
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe(`${image(s3.commit)} v3`);
  });
});
