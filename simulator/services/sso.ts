// SSO like the engine: POST /ovirt-engine/sso/oauth/token (password grant) answering JSON, the token revoke
// (POST /ovirt-engine/services/sso-logout, form scope + token, as the Python SDK's Connection.close() sends it), and
// the REST API credential check (Bearer token, Basic). Tokens live in memory: an engine restart invalidates them.
import * as crypto from "node:crypto";

export const USERS = ["admin@internal", "admin@internal-authz"];

interface Token {
  user: string;
  expiresAt: number;
  scope: string;
}

export class Sso {
  private tokens = new Map<string, Token>();
  constructor(
    private password: string,
    public tokenLifetimeSeconds: number,
  ) {}

  checkPassword(user: string, password: string): boolean {
    if (!USERS.includes(user)) return false;
    const a = Buffer.from(password);
    const b = Buffer.from(this.password);
    return a.length === b.length && crypto.timingSafeEqual(a, b);
  }

  /** Answers the token servlet: [status, JSON]. */
  token(form: URLSearchParams): [number, Record<string, string>] {
    const grant = form.get("grant_type");
    const scope = form.get("scope") ?? "ovirt-app-api";
    const username = form.get("username") ?? "";
    const password = form.get("password") ?? "";
    const appApi = scope.split(" ").includes("ovirt-app-api");
    const err = (code: string, text: string): [number, Record<string, string>] =>
      appApi ? [400, { error_code: code, error: text }] : [400, { error: code, error_description: text }];
    if (grant !== "password") return err("unsupported_grant_type", `The authorization grant type ${grant ?? ""} is not supported.`);
    if (!username || !password) return err("invalid_request", "The request is missing a required parameter: username, password.");
    if (!this.checkPassword(username, password)) {
      return err("access_denied", `Cannot authenticate user '${username}': The username or password is incorrect..`);
    }
    const t = crypto.randomBytes(32).toString("base64url");
    const expiresAt = Date.now() + this.tokenLifetimeSeconds * 1000;
    this.tokens.set(t, { user: username, expiresAt, scope });
    return [200, { access_token: t, scope, exp: String(expiresAt), token_type: "bearer" }];
  }

  /** Tokens revoked since start (sso-logout with a live token). */
  revoked = 0;

  /**
   * The SSO revoke the Python SDK's `Connection.close()` sends (`_revoke_access_token`): `POST
   * /ovirt-engine/services/sso-logout` with the form `scope=ovirt-app-api&token=<token>`, answered in JSON. The
   * token is invalid from then on (the API answers 401 to it). An unknown or already revoked token is not an error
   * (the logout is idempotent); a missing one is `invalid_request`. Answers [status, JSON].
   */
  revoke(form: URLSearchParams): [number, Record<string, string>] {
    const token = form.get("token");
    if (!token) return [400, { error_code: "invalid_request", error: "The request is missing a required parameter: token." }];
    if (this.tokens.delete(token)) this.revoked++;
    return [200, {}];
  }

  /** sso-logout with the token of the form (or query): revokes it (see `revoke`). */
  logout(token: string | null): void {
    if (token) this.revoke(new URLSearchParams({ token }));
  }

  /** Live (not revoked, not expired) tokens. */
  activeTokens(): number {
    const now = Date.now();
    let n = 0;
    for (const t of this.tokens.values()) if (t.expiresAt > now) n++;
    return n;
  }

  expireAll(): number {
    const n = this.tokens.size;
    this.tokens.clear();
    return n;
  }

  /** Returns the authenticated user, or undefined (-> 401). */
  authenticate(authorization: string | undefined): string | undefined {
    if (!authorization) return undefined;
    const [scheme, value] = authorization.split(/\s+/, 2);
    if (!value) return undefined;
    if (scheme.toLowerCase() === "bearer") {
      const t = this.tokens.get(value);
      if (!t) return undefined;
      if (t.expiresAt <= Date.now()) {
        this.tokens.delete(value);
        return undefined;
      }
      return t.user;
    }
    if (scheme.toLowerCase() === "basic") {
      const dec = Buffer.from(value, "base64").toString("utf8");
      const i = dec.indexOf(":");
      if (i < 0) return undefined;
      const user = dec.slice(0, i);
      return this.checkPassword(user, dec.slice(i + 1)) ? user : undefined;
    }
    return undefined;
  }
}
