/**
 * What an engine answer means when it is not a success, like the Python SDK's `Service._check_fault`,
 * `_check_action` and `_raise_error` (ovirtsdk4/service.py): the `<fault>` of an answer >= 400 (bare, or inside an
 * `<action>` echo) and an `<action>` answered with `status=failed`, as typed errors (`errors.ts`). The transport's
 * own failures (no answer, TLS) are the connection's (`connection.ts`).
 */
import { AuthenticationError, EngineError } from "./errors";
import type { Response } from "./connection";
import { Action, Fault } from "./types";
import { parseXml, parseWith } from "./xml";

/** Who answered, for the messages; `redact` hides the password in anything taken from the request or answer. */
export interface FaultContext {
  origin: string;
  username: string;
  redact: (s: string) => string;
}

/**
 * The error for an answer >= 400: `AuthenticationError` for a 401 (the connection already logged in anew once),
 * else `EngineError` with the fault's reason and detail (the body's start when it is not a fault).
 */
export function responseError(
  res: Response,
  req: { method: string; path: string; correlationId?: string },
  ctx: FaultContext,
): Error {
  let reason = `HTTP ${res.status}`;
  let detail = "";
  try {
    const { root, value } = parseXml(res.body);
    const fault = root === "fault" ? value : root === "action" ? value?.fault : undefined;
    if (fault) {
      const f = parseWith(Fault, fault, "fault");
      reason = f.reason ?? reason;
      detail = f.detail ?? "";
    }
  } catch {
    detail = res.body.slice(0, 300);
  }
  if (res.status === 401) {
    return new AuthenticationError(
      `engine ${ctx.origin} refused the credentials of ${ctx.username} (HTTP 401) even after a new SSO login`,
    );
  }
  return new EngineError({
    status: res.status,
    reason: ctx.redact(reason),
    detail: ctx.redact(detail),
    method: req.method,
    path: ctx.redact(req.path),
    correlationId: req.correlationId,
  });
}

/**
 * The `<action>` of a successful `POST <path>/<verb>` answer, or the `EngineError` of a late failure the engine
 * answered with HTTP 200 and `status=failed` (or a fault inside the action).
 */
export function actionResult(
  res: Response,
  req: { path: string; correlationId: string },
): Action {
  let action: Action = {};
  if (res.body.trim()) {
    const { root, value } = parseXml(res.body);
    if (root === "action") action = parseWith(Action, value, "action");
  }
  if (action.status === "failed" || action.fault) {
    throw new EngineError({
      status: res.status,
      reason: action.fault?.reason ?? "Operation Failed",
      detail: action.fault?.detail ?? "",
      method: "POST",
      path: req.path,
      correlationId: req.correlationId,
    });
  }
  return action;
}
