/** V2VImport's `check` (preview): arguments, the target, name conflicts, permissions, the preflight; reads only. */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { ArgError, CheckFailure, PROGRESS_URN_KEY, clientFor, connectionFailure, jsonEqual, sameEngineProbe, checkConnectionChange, userInputs, validate } from "../common";
import { Progress, progressFor } from "../../progress";
import { V2vUrlError, parseLibvirtSshUrl } from "../../../lib/v2vUrl";
import { checkPermissions } from "../../operations/permissions";
import { unknownCpuProfile } from "../../operations/rules";
import { V2VImportArgs } from "./args";
import { importKeysChanged } from "./lifecycle";
import { proxyTlsWarning } from "./source";
import { Target, resolveTarget, targetNameFailures } from "./target";
import { proxyFailures, vcenterFailures } from "./preflight";

export async function check(olds: any, news: any): Promise<dynamic.CheckResult> {
  const { args, failures, hasUnknowns } = validate(V2VImportArgs, userInputs(news));
  if (!args) return { inputs: news, failures };
  if (hasUnknowns) return { inputs: news, failures };
  const urn = news[PROGRESS_URN_KEY] as string | undefined;
  const progress = progressFor(urn, `v2v ${args.sourceVms.join(", ")}`);
  const prev = olds && Object.keys(userInputs(olds)).length ? userInputs(olds) : undefined;
  // olds exist only for a resource already in the state: with the same import identity the import is done, so the
  // source is not re-checked (it may be running again by now); only what changes in place is
  if (prev && (await sameEngineProbe(prev.engine, args.engine)) && importKeysChanged(prev, args).length === 0) {
    return { inputs: news, failures: [...failures, ...(await inPlaceFailures(prev, args))] };
  }
  const warning = proxyTlsWarning(args);
  if (warning) progress.warn(warning);
  const fs: CheckFailure[] = [];
  try {
    fs.push(...sourceUrlFailures(args));
    await preflight(args, prev, urn, progress, fs);
  } catch (e) {
    const f = connectionFailure(e);
    if (f) fs.push(f);
    else throw e;
  }
  return { inputs: news, failures: [...failures, ...fs] };
}

/** A done import: the connection if it changed, and the fields that change in place (CPU profile, permissions). */
async function inPlaceFailures(prev: any, args: V2VImportArgs): Promise<CheckFailure[]> {
  const fs: CheckFailure[] = [];
  await checkConnectionChange(prev.engine, args.engine, fs);
  const profileChanged = !!args.cpuProfile && !jsonEqual(prev.cpuProfile, args.cpuProfile);
  const permsChanged = !jsonEqual(prev.permissions ?? [], args.permissions);
  if (profileChanged || permsChanged) {
    try {
      const c = clientFor(args.engine);
      if (profileChanged) {
        const cl = await c.clusters.findByName(args.cluster);
        const profiles = cl ? await c.clusters.cpuProfiles(cl.id) : [];
        if (cl && !profiles.some((p) => p.name === args.cpuProfile || p.id === args.cpuProfile)) {
          fs.push({ property: "cpuProfile", reason: unknownCpuProfile(cl.name, args.cpuProfile!, profiles) });
        }
      }
      if (permsChanged) await checkPermissions(c, `${args.engine.url}|${args.engine.username}`, args.permissions, fs);
    } catch (e) {
      const f = connectionFailure(e);
      if (f) fs.push(f);
      else throw e;
    }
  }
  return fs;
}

/** KVM/Xen: the source URL parses and its scheme fits the provider. */
function sourceUrlFailures(args: V2VImportArgs): CheckFailure[] {
  if (args.provider === "vmware") return [];
  try {
    const u = parseLibvirtSshUrl(args.sourceUrl!);
    if ((args.provider === "kvm") !== (u.scheme === "qemu+ssh")) {
      return [{ property: "sourceUrl", reason: `sourceUrl: provider "${args.provider}" needs a ${args.provider === "kvm" ? "qemu+ssh://" : "xen+ssh://"} URL` }];
    }
  } catch (e) {
    if (e instanceof V2vUrlError) return [{ property: "sourceUrl", reason: `sourceUrl: ${e.message}` }];
    throw e;
  }
  return [];
}

/**
 * A new import's preflight, reads only: the target (cluster, domain, proxy host), the vCenter (each source VM found
 * and powered off), the target names (conflicts, adoption), permissions, then the proxy host over SSH.
 */
async function preflight(args: V2VImportArgs, prev: any, urn: string | undefined, progress: Progress, fs: CheckFailure[]): Promise<void> {
  const c = clientFor(args.engine);
  let target: Target | undefined;
  try {
    target = await resolveTarget(c, args);
  } catch (e) {
    if (e instanceof ArgError) fs.push({ property: e.property, reason: e.message });
    else throw e;
  }
  const vc = await vcenterFailures(args);
  const prevArgs = prev ? V2VImportArgs.safeParse(prev) : undefined;
  if (target) fs.push(...(await targetNameFailures(c, args, target, vc.vms, urn, progress, prevArgs?.success ? prevArgs.data : undefined)));
  await checkPermissions(c, `${args.engine.url}|${args.engine.username}`, args.permissions, fs);
  fs.push(...vc.failures);
  if (target) fs.push(...(await proxyFailures(args, target.host, false)).failures);
}
