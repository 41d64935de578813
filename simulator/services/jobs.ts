// /jobs: list (search correlation_id=, status=, description=), get (follow steps), steps, clear/end.
import { Router } from "../router";
import { JobRec } from "../model/types";
import { actionComplete, byIdOr404, list, one } from "./common";
import { follows } from "../xml/write";

export function register(r: Router): void {
  r.get("jobs", (ctx) =>
    list(ctx, "jobs", "job", ctx.engine.state.jobs, (j, f) => ctx.w.job(j, f), {
      correlation_id: (j: JobRec) => j.correlationId,
      status: (j) => j.status,
      description: (j) => j.description,
      id: (j) => j.id,
    }),
  );
  r.get("jobs/:id", (ctx) => one("job", ctx.w.job(byIdOr404(ctx.engine.state.jobs, ctx.params.id), follows(ctx.query.get("follow")))));
  r.get("jobs/:id/steps", (ctx) => {
    const j = byIdOr404(ctx.engine.state.jobs, ctx.params.id);
    return list(ctx, "steps", "step", j.steps, (s) => ctx.w.step(j, s));
  });
  r.get("jobs/:id/steps/:step", (ctx) => {
    const j = byIdOr404(ctx.engine.state.jobs, ctx.params.id);
    return one("step", ctx.w.step(j, byIdOr404(j.steps, ctx.params.step)));
  });
  r.action("jobs/:id/clear", (ctx) => {
    const j = byIdOr404(ctx.engine.state.jobs, ctx.params.id);
    if (j.status !== "started") {
      ctx.engine.state.jobs = ctx.engine.state.jobs.filter((x) => x !== j);
      ctx.engine.markDirty();
    }
    return actionComplete(ctx);
  });
  r.action("jobs/:id/end", (ctx) => {
    const j = byIdOr404(ctx.engine.state.jobs, ctx.params.id);
    if (j.external && j.status === "started") ctx.jobs.end(j, "finished");
    return actionComplete(ctx);
  });
}
