// Fault injection as data, one mechanism. Modelled on govmomi's simulator/fault_injection.go (a rule matches a method,
// an object type and an object name; probability, delay, a maximum count and a skip count), mapped onto the engine:
//
//   { match:  { method?, path? (regex on the URL path), entity?: vm|template|storagedomain, name?, operation? },
//     effect: { transport: status|reset|delay, status?, delayMs? }      the HTTP answer fails (or is late)
//           | { engineFault: "<AppErrors key>", params? }               the command fails validation with that message
//           | { jobFailure: { reason, at?: start|halfway } }            the command's job fails (export, import)
//           | { guest: "ignore-shutdown" }                              the guest ignores an ACPI shutdown
//     probability? (0..1, default 1), max?, skip? }
//
// Two places ask the rules. The HTTP front (server.ts) asks `decide(method, path)` for every /ovirt-engine request:
// transport rules that match no entity act there, before the request reaches the engine. The services ask
// `ctx.faults.atOperation(entity, name, operation)` where an operation starts on an entity (OPERATION_POINTS below),
// after the engine's own validation passed: every other rule acts there. A transport effect matched at an operation
// replaces the answer of a command that did run (the answer is lost on the way back), which is what a client's
// recovery after a lost answer has to cope with.
import { z } from "zod";
import { Action, EngineFault, ENGINE_MESSAGES, EngineMessageKey, EntityType } from "./engineFaults";

/** Entity kinds a rule can match, with the engine's `${type}` word for their messages (VAR__TYPE__*). */
export const ENTITY_TYPES = { vm: "VM", template: "Template", storagedomain: "Storage" } as const satisfies Record<string, EntityType>;
export type EntityKind = keyof typeof ENTITY_TYPES;

/**
 * Where the services ask the rules: entity kind -> operations that start there. A rule naming anything else could
 * never fire, so it is refused. import of a vm: from an export domain and from an external provider (V2V); tell them
 * apart by `path` (`/externalvmimports$`).
 */
export const OPERATION_POINTS = {
  vm: ["export", "import", "shutdown", "stop"],
  template: ["export", "import"],
  storagedomain: ["attach", "detach", "activate", "deactivate"],
} as const satisfies Record<EntityKind, readonly Action[]>;
export type Operation = (typeof OPERATION_POINTS)[EntityKind][number];
const ALL_OPERATIONS = [...new Set(Object.values(OPERATION_POINTS).flat())] as [Operation, ...Operation[]];
/** Operations whose command runs a job with copies that a job failure can strike. */
const JOB_OPERATIONS: readonly Operation[] = ["export", "import"];

const MESSAGE_KEYS = Object.keys(ENGINE_MESSAGES) as [EngineMessageKey, ...EngineMessageKey[]];

const MatchSchema = z
  .object({
    method: z.string().min(1).optional(),
    path: z
      .string()
      .optional()
      .superRefine((p, c) => {
        if (p === undefined) return;
        try {
          new RegExp(p);
        } catch (e) {
          c.addIssue({ code: z.ZodIssueCode.custom, message: `not a regular expression (${e instanceof Error ? e.message : String(e)})` });
        }
      }),
    entity: z.enum(Object.keys(ENTITY_TYPES) as [EntityKind, ...EntityKind[]]).optional(),
    name: z.string().min(1).optional(),
    operation: z.enum(ALL_OPERATIONS).optional(),
  })
  .strict();

const JobFailureSchema = z.object({ reason: z.string().min(1), at: z.enum(["start", "halfway"]).default("halfway") }).strict();
export type InjectedJobFailure = z.output<typeof JobFailureSchema>;

const EffectSchema = z
  .object({
    transport: z.enum(["status", "reset", "delay"]).optional(),
    status: z.number().int().min(100).max(599).optional(),
    delayMs: z.number().min(0).optional(),
    engineFault: z.enum(MESSAGE_KEYS).optional(),
    params: z.record(z.string(), z.string()).optional(),
    jobFailure: JobFailureSchema.optional(),
    guest: z.enum(["ignore-shutdown"]).optional(),
  })
  .strict();

const EFFECT_KINDS = ["transport", "engineFault", "jobFailure", "guest"] as const;
type EffectKind = (typeof EFFECT_KINDS)[number];
/** The fields each effect kind may carry besides its own. */
const EFFECT_FIELDS: Record<EffectKind, string[]> = { transport: ["status", "delayMs"], engineFault: ["params"], jobFailure: [], guest: [] };

export const FaultRuleSchema = z
  .object({
    match: MatchSchema.default({}),
    effect: EffectSchema,
    probability: z.number().min(0).max(1).default(1),
    max: z.number().int().min(0).optional(),
    skip: z.number().int().min(0).optional(),
  })
  .strict()
  .superRefine((r, c) => {
    const issue = (path: (string | number)[], message: string) => c.addIssue({ code: z.ZodIssueCode.custom, path, message });
    const kinds = EFFECT_KINDS.filter((k) => r.effect[k] !== undefined);
    if (kinds.length !== 1) {
      issue(["effect"], `exactly one of ${EFFECT_KINDS.join(", ")} is required (found ${kinds.length ? kinds.join(", ") : "none"})`);
      return;
    }
    const kind = kinds[0];
    for (const f of Object.keys(r.effect)) {
      if (f !== kind && !EFFECT_FIELDS[kind].includes(f)) issue(["effect", f], `does not go with ${kind} (it takes ${EFFECT_FIELDS[kind].join(", ") || "nothing else"})`);
    }
    const { entity, operation } = r.match;
    if (entity && operation && !(OPERATION_POINTS[entity] as readonly string[]).includes(operation)) {
      issue(["match", "operation"], `a ${entity} has no operation ${operation} at which rules are asked (its operations: ${OPERATION_POINTS[entity].join(", ")})`);
    }
    if (kind === "transport" && r.effect.transport === "delay" && !r.effect.delayMs) issue(["effect", "delayMs"], "a delay needs delayMs > 0");
    if (kind === "transport" && r.effect.transport !== "status" && r.effect.status !== undefined) issue(["effect", "status"], `only a "status" transport effect answers a status`);
    if (kind === "engineFault") {
      const need = ENGINE_MESSAGES[r.effect.engineFault!].params as readonly string[];
      for (const p of need) if (!r.effect.params?.[p]) issue(["effect", "params", p], `${r.effect.engineFault} needs the text of its \${${p}} placeholder`);
      for (const p of Object.keys(r.effect.params ?? {})) if (!need.includes(p)) issue(["effect", "params", p], `${r.effect.engineFault} has no \${${p}} placeholder (it has: ${need.join(", ") || "none beyond action and type"})`);
    }
    if (kind === "jobFailure") {
      if (entity === "storagedomain") issue(["match", "entity"], "storage domain commands run no copy a job failure could strike; use an engineFault");
      if (operation && !JOB_OPERATIONS.includes(operation)) issue(["match", "operation"], `only ${JOB_OPERATIONS.join(" and ")} run a job with copies; found ${operation}`);
    }
    if (kind === "guest") {
      if (entity && entity !== "vm") issue(["match", "entity"], `only a vm has a guest; found ${entity}`);
      if (operation && operation !== "shutdown") issue(["match", "operation"], `the guest answers shutdown only; found ${operation}`);
    }
  });

/** The body of PUT /__admin/faults. A rule in the earlier flat shape ({ kind, ... }) is refused with the new shape. */
export const FaultRulesSchema = z.object({
  rules: z.array(
    z.preprocess((v, c) => {
      if (v && typeof v === "object" && "kind" in v) {
        c.addIssue({
          code: z.ZodIssueCode.custom,
          message: 'the flat rule shape { method, path, kind, status, delayMs } was replaced: write { match: { method, path }, effect: { transport: "<kind>", status, delayMs }, max, skip, probability } (simulator/README.md, "Fault injection")',
        });
        return z.NEVER;
      }
      return v;
    }, FaultRuleSchema),
  ),
});

export type FaultRule = z.output<typeof FaultRuleSchema>;

export interface TransportDecision {
  kind: "status" | "reset" | "delay";
  status?: number;
  delayMs: number;
  ruleIndex: number;
}

/** What an operation point learns from the rules (an engine fault is thrown instead). */
export interface OperationFaults {
  jobFailure?: InjectedJobFailure;
  guest?: "ignore-shutdown";
}

interface RuleState {
  rule: FaultRule;
  re?: RegExp;
  /** matched (before skip, max and probability) */
  seen: number;
  /** applied */
  hits: number;
  /** acts at the HTTP front: a transport effect matched by method/path only */
  front: boolean;
}

export class FaultInjector {
  private rules: RuleState[] = [];
  private rnd: () => number = Math.random;

  set(rules: FaultRule[]): void {
    this.rules = rules.map((rule) => ({
      rule,
      re: rule.match.path ? new RegExp(rule.match.path) : undefined,
      seen: 0,
      hits: 0,
      front: rule.effect.transport !== undefined && !rule.match.entity && !rule.match.name && !rule.match.operation,
    }));
  }

  clear(): void {
    this.rules = [];
  }

  list(): (FaultRule & { hits: number; seen: number })[] {
    return this.rules.map((r) => ({ ...r.rule, hits: r.hits, seen: r.seen }));
  }

  /** The rules bound to one request, for its operation points (Ctx.faults). */
  forRequest(method: string, path: string): RequestFaults {
    return new RequestFaults(this, method, path);
  }

  /** Counts a match and says whether the rule applies now: skip first, then max, then probability. */
  private fires(st: RuleState): boolean {
    const r = st.rule;
    st.seen++;
    if (r.skip && st.seen <= r.skip) return false;
    if (r.max !== undefined && st.hits >= r.max) return false;
    if (r.probability < 1 && this.rnd() >= r.probability) return false;
    return true;
  }

  private matchesRequest(st: RuleState, method: string, path: string): boolean {
    const m = st.rule.match;
    if (m.method && m.method.toUpperCase() !== method.toUpperCase()) return false;
    return !st.re || st.re.test(path);
  }

  /**
   * The HTTP front's decision for a request: at most one "status"/"reset" (the first rule that fires) plus the delays
   * of the rules that fire (summed; a status/reset rule's own delayMs comes before its answer).
   */
  decide(method: string, path: string): { terminal?: TransportDecision; delayMs: number } {
    let terminal: TransportDecision | undefined;
    let delayMs = 0;
    this.rules.forEach((st, i) => {
      if (!st.front || !this.matchesRequest(st, method, path) || !this.fires(st)) return;
      const e = st.rule.effect;
      if (e.transport === "delay") {
        st.hits++;
        delayMs += e.delayMs ?? 0;
        return;
      }
      if (terminal) return;
      st.hits++;
      terminal = { kind: e.transport!, status: e.transport === "status" ? (e.status ?? 503) : undefined, delayMs: e.delayMs ?? 0, ruleIndex: i };
      delayMs += e.delayMs ?? 0;
    });
    return { terminal, delayMs };
  }

  /**
   * An operation point: the rules that match the request and the entity are tried in order. The first engine fault
   * that fires is thrown (the command fails its validation: nothing was changed, later rules are not reached); else
   * the first job failure, the first guest behaviour and the first transport effect that fire are returned/recorded.
   */
  atOperation(req: RequestFaults, entity: EntityKind, name: string, operation: Operation): OperationFaults {
    const out: OperationFaults = {};
    for (const [i, st] of this.rules.entries()) {
      if (st.front || !this.matchesRequest(st, req.method, req.path)) continue;
      const m = st.rule.match;
      if ((m.entity && m.entity !== entity) || (m.name !== undefined && m.name !== name) || (m.operation && m.operation !== operation)) continue;
      const e = st.rule.effect;
      // effects that cannot act at this point do not count it as a match
      if (e.jobFailure && !JOB_OPERATIONS.includes(operation)) continue;
      if (e.guest && (entity !== "vm" || operation !== "shutdown")) continue;
      if (!this.fires(st)) continue;
      if (e.engineFault) {
        st.hits++;
        const msg = ENGINE_MESSAGES[e.engineFault];
        throw (msg.fault as (a: Action, t: EntityType, p: Record<string, string>) => EngineFault)(operation, ENTITY_TYPES[entity], e.params ?? {});
      }
      if (e.jobFailure && !out.jobFailure) {
        st.hits++;
        out.jobFailure = e.jobFailure;
      } else if (e.guest && !out.guest) {
        st.hits++;
        out.guest = e.guest;
      } else if (e.transport && !req.answerFault) {
        st.hits++;
        req.answerFault = { kind: e.transport, status: e.transport === "status" ? (e.status ?? 503) : undefined, delayMs: e.delayMs ?? 0, ruleIndex: i };
      }
    }
    return out;
  }
}

/** The fault rules as one request's operation points see them (Ctx.faults). */
export class RequestFaults {
  /** A transport effect matched at an operation: the server applies it to the answer once the command ran. */
  answerFault?: TransportDecision;

  constructor(
    private readonly injector: FaultInjector,
    readonly method: string,
    readonly path: string,
  ) {}

  /** Asks the rules where `operation` starts on `entity` (named `name`), after the engine's validation passed. */
  atOperation(entity: EntityKind, name: string, operation: Operation): OperationFaults {
    return this.injector.atOperation(this, entity, name, operation);
  }
}
