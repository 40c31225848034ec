import * as openpgp from "openpgp";
import type { SandboxCore } from "../core.js";
import { newToken } from "../auth/tokens.js";
import { HttpError, notFound, validationFailed } from "../http/errors.js";
import { created, noContent, ok, type ApiRequest } from "../http/request.js";
import { paginate } from "../http/pagination.js";
import type { Router } from "../http/router.js";
import type { OrgRecord, UserRecord } from "../state/types.js";
import { installApp } from "./app.js";

const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$/;

function requireUserActor(req: ApiRequest): UserRecord {
  const actor = req.actor;
  if (actor === null) throw new HttpError(401, "Requires authentication");
  if (actor.kind !== "user") throw new HttpError(403, "Resource not accessible by integration");
  return actor.user;
}

/** Creates a user (also used at start for the site admin). */
export function createUser(
  core: SandboxCore,
  login: string,
  email: string | null,
  siteAdmin = false,
): UserRecord {
  const user: UserRecord = {
    id: core.nextId(),
    login,
    email,
    name: login,
    type: "User",
    site_admin: siteAdmin,
    created_at: core.now(),
  };
  core.state.users[login] = user;
  return user;
}

function taken(core: SandboxCore, login: string): boolean {
  return core.user(login) !== undefined || core.org(login) !== undefined;
}

async function gpgKeyJson(
  core: SandboxCore,
  record: { id: number; user: string; key_id: string; armored: string; emails: string[]; created_at: string },
) {
  return {
    id: record.id,
    name: null,
    primary_key_id: null,
    key_id: record.key_id,
    public_key: record.armored,
    emails: record.emails.map((email) => ({ email, verified: true })),
    subkeys: [],
    can_sign: true,
    can_encrypt_comms: false,
    can_encrypt_storage: false,
    can_certify: true,
    created_at: record.created_at,
    expires_at: null,
    revoked: false,
    raw_key: record.armored,
    user_login: core.userJson(record.user).login,
  };
}

/** An account's public profile (`GET /users/{u}`, `GET /user/{id}`): a user in full, an org as a user; 404 otherwise. */
export function accountProfileJson(core: SandboxCore, login: string): Record<string, unknown> {
  const user = core.user(login);
  if (user !== undefined) return core.fullUserJson(user);
  const org = core.org(login);
  if (org !== undefined) return core.userJson(org.login);
  throw notFound();
}

export function registerAdminRoutes(router: Router, core: SandboxCore): void {
  router.on("POST", "/admin/users", (req) => {
    core.requireSiteAdmin(req);
    const login = req.body.string("login");
    const email = req.body.optString("email") ?? null;
    if (!LOGIN.test(login)) throw validationFailed({ resource: "User", field: "login", code: "invalid" });
    if (taken(core, login))
      throw validationFailed({
        resource: "User",
        field: "login",
        code: "custom",
        message: "login is already taken",
      });
    return created(core.fullUserJson(createUser(core, login, email)));
  });

  router.on("POST", "/admin/organizations", (req) => {
    const admin = core.requireSiteAdmin(req);
    const login = req.body.string("login");
    const ownerLogin = req.body.string("admin");
    if (!LOGIN.test(login))
      throw validationFailed({ resource: "Organization", field: "login", code: "invalid" });
    if (taken(core, login))
      throw validationFailed({
        resource: "Organization",
        field: "login",
        code: "custom",
        message: "login is already taken",
      });
    const owner = core.user(ownerLogin);
    if (owner === undefined)
      throw validationFailed({
        resource: "Organization",
        field: "admin",
        code: "invalid",
        message: "admin is not a user",
      });
    const org: OrgRecord = {
      id: core.nextId(),
      login,
      created_at: core.now(),
      members: { [owner.login]: "admin" },
      default_repository_permission: "read",
    };
    core.state.orgs[login] = org;
    // Sandbox extension: `install_app: false` leaves the org without the app, so a test can
    // install it later (e.g. on selected repositories, POST /sandbox/installations).
    if (req.body.optBool("install_app") !== false) installApp(core, login, admin.login);
    return created(core.orgJson(org));
  });

  router.on("POST", "/admin/users/{username}/authorizations", (req) => {
    core.requireSiteAdmin(req);
    const user = core.user(req.params.username ?? "");
    if (user === undefined || user.type !== "User") throw notFound();
    const token = newToken("ghp");
    const id = core.nextId();
    const now = core.now();
    const scopes = req.body.optStringArray("scopes") ?? [];
    core.state.tokens[token] = { kind: "user", token, login: user.login, id, created_at: now, note: null };
    return created({
      id,
      url: `${core.apiUrl}/authorizations/${id}`,
      app: { name: "Site admin token", url: `${core.origin}/admin`, client_id: "00000000000000000000" },
      token,
      hashed_token: null,
      token_last_eight: token.slice(-8),
      note: null,
      note_url: null,
      created_at: now,
      updated_at: now,
      scopes,
      fingerprint: null,
      expires_at: null,
      user: core.userJson(user.login),
    });
  });

  router.on("DELETE", "/admin/users/{username}/authorizations", (req) => {
    core.requireSiteAdmin(req);
    const user = core.user(req.params.username ?? "");
    if (user === undefined) throw notFound();
    for (const [token, record] of Object.entries(core.state.tokens)) {
      if (record.kind === "user" && record.login === user.login) delete core.state.tokens[token];
    }
    return noContent();
  });

  router.on("GET", "/user", (req) => ok(core.fullUserJson(requireUserActor(req))));

  router.on("GET", "/users/{username}", (req) => ok(accountProfileJson(core, req.params.username ?? "")));

  router.on("POST", "/user/gpg_keys", async (req) => {
    const user = requireUserActor(req);
    const armored = req.body.string("armored_public_key");
    let key: openpgp.Key;
    try {
      key = await openpgp.readKey({ armoredKey: armored });
    } catch {
      throw validationFailed({
        resource: "GpgKey",
        field: "key",
        code: "custom",
        message: "We got an error doing that.",
      });
    }
    const emails = (key.getUserIDs() ?? [])
      .map((uid) => /<([^>]+)>/.exec(uid)?.[1])
      .filter((e): e is string => e !== undefined);
    const record = {
      id: core.nextId(),
      user: user.login,
      key_id: key.getKeyID().toHex().toUpperCase(),
      armored: key.armor(),
      emails,
      created_at: core.now(),
    };
    core.state.gpgKeys[String(record.id)] = record;
    return created(await gpgKeyJson(core, record));
  });

  router.on("GET", "/user/gpg_keys", async (req) => {
    const user = requireUserActor(req);
    const keys = Object.values(core.state.gpgKeys).filter((k) => k.user === user.login);
    return paginate(req, await Promise.all(keys.map((k) => gpgKeyJson(core, k))));
  });

  router.on("GET", "/users/{username}/gpg_keys", async (req) => {
    const user = core.user(req.params.username ?? "");
    if (user === undefined) throw notFound();
    const keys = Object.values(core.state.gpgKeys).filter((k) => k.user === user.login);
    return paginate(req, await Promise.all(keys.map((k) => gpgKeyJson(core, k))));
  });

  router.on("POST", "/user/ssh_signing_keys", (req) => {
    const user = requireUserActor(req);
    const key = req.body.string("key");
    if (!/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp\d+|sk-[a-z0-9@.-]+) [A-Za-z0-9+/=]+/.test(key))
      throw validationFailed({
        resource: "PublicKey",
        field: "key",
        code: "custom",
        message: "key is invalid. You must supply a key in OpenSSH public key format",
      });
    const record = {
      id: core.nextId(),
      user: user.login,
      key: key.trim(),
      title: req.body.optString("title") ?? "",
      created_at: core.now(),
    };
    core.state.sshSigningKeys[String(record.id)] = record;
    return created({ id: record.id, key: record.key, title: record.title, created_at: record.created_at });
  });

  router.on("GET", "/users/{username}/ssh_signing_keys", (req) => {
    const user = core.user(req.params.username ?? "");
    if (user === undefined) throw notFound();
    return paginate(
      req,
      Object.values(core.state.sshSigningKeys)
        .filter((k) => k.user === user.login)
        .map((k) => ({ id: k.id, key: k.key, title: k.title, created_at: k.created_at })),
    );
  });
}
