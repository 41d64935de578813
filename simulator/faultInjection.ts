// Fault injection as data (govmomi simulator style): rules matched by method and path regex, with a probability,
// optional delay, a maximum number of hits and a number of initial matches to skip.
import { z } from "zod";

export const FaultRuleSchema = z.object({
  method: z.string().optional(),
  path: z.string().optional(),
  kind: z.enum(["status", "reset", "delay"]),
  status: z.number().int().min(100).max(599).optional(),
  probability: z.number().min(0).max(1).default(1),
  delayMs: z.number().min(0).optional(),
  max: z.number().int().min(0).optional(),
  skip: z.number().int().min(0).optional(),
});

export const FaultRulesSchema = z.object({ rules: z.array(FaultRuleSchema) });

export type FaultRule = z.output<typeof FaultRuleSchema>;

export interface FaultDecision {
  kind: "status" | "reset" | "delay";
  status?: number;
  delayMs?: number;
  ruleIndex: number;
}

interface RuleState {
  rule: FaultRule;
  re?: RegExp;
  seen: number;
  hits: number;
}

export class FaultInjector {
  private rules: RuleState[] = [];
  private rnd: () => number = Math.random;

  set(rules: FaultRule[]): void {
    this.rules = rules.map((rule) => ({ rule, re: rule.path ? new RegExp(rule.path) : undefined, seen: 0, hits: 0 }));
  }

  clear(): void {
    this.rules = [];
  }

  list(): (FaultRule & { hits: number; seen: number })[] {
    return this.rules.map((r) => ({ ...r.rule, hits: r.hits, seen: r.seen }));
  }

  /** Decisions for a request: at most one "status"/"reset" (first match wins) plus any "delay" rules (summed). */
  decide(method: string, path: string): { terminal?: FaultDecision; delayMs: number } {
    let terminal: FaultDecision | undefined;
    let delayMs = 0;
    this.rules.forEach((st, i) => {
      const r = st.rule;
      if (r.method && r.method.toUpperCase() !== method.toUpperCase()) return;
      if (st.re && !st.re.test(path)) return;
      st.seen++;
      if (r.skip && st.seen <= r.skip) return;
      if (r.max !== undefined && st.hits >= r.max) return;
      if (r.probability < 1 && this.rnd() >= r.probability) return;
      if (r.kind === "delay") {
        st.hits++;
        delayMs += r.delayMs ?? 0;
        return;
      }
      if (terminal) return;
      st.hits++;
      terminal = { kind: r.kind, status: r.kind === "status" ? (r.status ?? 503) : undefined, delayMs: r.delayMs, ruleIndex: i };
      if (r.delayMs) delayMs += r.delayMs;
    });
    return { terminal, delayMs };
  }
}
