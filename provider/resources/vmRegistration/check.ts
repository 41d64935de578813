/**
 * VmRegistration preview (reads only). The entity is judged where it is now: unregistered on the domain in the
 * target engine (the domain already moved), or registered in the source (`expectFrom`: the domain moves in this
 * stack). Refused at preview, naming the argument and the fix: an unknown cluster / mapping target / role / vNIC
 * profile, a name taken in the target data center, an id in use there that stays (no `clone`), disks that do not
 * move without `allowPartialImport`, the cluster's architecture, a running source VM, a thin VM whose template is
 * neither in the target nor on the domain.
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { searchName } from "../../client";
import type { Cluster, OvirtClient, Template, Vm } from "../../client";
import { BLANK_TEMPLATE_ID } from "../../client/types";
import { listVnicProfiles } from "../../client/services/registration";
import { listAuthzDomains } from "../../client/services/domains";
import { progressFor } from "../../progress";
import { CheckFailure, PROGRESS_URN_KEY, clientFor, connectionFailure, jsonEqual, normalizeArgs, sameEngine, suggest, userInputs, validate } from "../common";
import { VmRegistrationArgs } from "./args";
import { idInUseAtRegister, nameTakenInTarget, registeredName } from "../../operations/registration";
import { conflictsIn, describeConflicts, nicsOfVm } from "../../operations/macPools";

/**
 * A VM registered without `reassignBadMacs` keeps its MAC addresses, and the engine refuses the register when the
 * target cluster's MAC pool already holds one of them and allows no duplicates (ImportVmCommandBase.validate,
 * ACTION_TYPE_FAILED_CANNOT_ADD_IFACE_DUE_TO_MAC_DUPLICATES; `reassign_bad_macs` gives such NICs, and those out of the
 * pool's ranges, new MACs: the API model's RegistrationConfiguration / StorageDomainVmService.register). The REST API
 * shows no NICs of an unregistered VM, so this is judged while the VM is still registered in the source (a preview
 * before the move), from its NICs there. The VM itself is no holder: its MACs leave with it.
 */
async function macDuplicates(source: OvirtClient, target: OvirtClient, key: string, cluster: Cluster, vm: Vm): Promise<CheckFailure | undefined> {
  const nics = await nicsOfVm(source, vm.id);
  if (!nics?.length) return undefined;
  const found = await conflictsIn(target, key, cluster.id, nics, vm.id);
  if (!found) return undefined;
  return {
    property: "reassignBadMacs",
    reason:
      `reassignBadMacs: VM ${vm.name} keeps its MAC addresses when registered, and MAC pool "${found.pool.name}" of cluster ${cluster.name} ` +
      `already holds ${found.conflicts.length === 1 ? "one of them" : "some of them"} and allows no duplicates: ${describeConflicts(found.conflicts)}. ` +
      `The engine would refuse the register. Set reassignBadMacs: true (those NICs get new MACs from the pool), or free those MACs in the target.`,
  };
}

/** Whether a domain (global GET: `data_centers`) is attached to any data center (kinds never import each other). */
const attachedAnywhere = (sd: { data_centers?: Array<{ id?: string }>; data_center?: { id?: string } }) => !!(sd.data_centers ?? []).some((d) => d.id) || !!sd.data_center?.id;

const diskSd = (d: { storage_domains?: Array<{ id?: string }>; storage_domain?: { id?: string } } | undefined) => d?.storage_domains?.[0]?.id ?? d?.storage_domain?.id;

/** The entity as the check sees it, and where. */
export interface View {
  entity: Vm | Template;
  where: "unregistered" | "source";
  /** aliases of disks that will not be on an active domain of the target data center */
  notMoving: string[];
}

async function sourceView(s: OvirtClient, kind: "vm" | "template", name: string, dcName: string, sdId: string): Promise<View | undefined> {
  const dc = await s.datacenters.findByName(dcName);
  if (!dc) return undefined;
  const clusters = new Set((await s.clusters.list()).filter((c) => c.data_center?.id === dc.id).map((c) => c.id));
  let entity: Vm | Template | undefined;
  let disks: Array<{ alias?: string; sd?: string }> = [];
  if (kind === "vm") {
    const vm = (await s.vms.list(searchName(name), "disk_attachments.disk")).find((v) => v.name === name && (!v.cluster?.id || clusters.has(v.cluster.id)));
    entity = vm;
    disks = (vm?.disk_attachments ?? []).map((a) => ({ alias: a.disk?.alias, sd: diskSd(a.disk) }));
  } else {
    const t = (await s.templates.findByName(name)).find((x) => !x.cluster?.id || clusters.has(x.cluster.id));
    entity = t;
    if (t) disks = (await s.templates.disks(t.id)).map((d) => ({ alias: d.alias, sd: diskSd(d) }));
  }
  if (!entity || !disks.some((d) => d.sd === sdId)) return entity ? { entity, where: "source", notMoving: ["(none of its disks is on the domain)"] } : undefined;
  return { entity, where: "source", notMoving: disks.filter((d) => d.sd !== sdId).map((d) => d.alias ?? "?") };
}

export async function check(olds: any, news: any): Promise<dynamic.CheckResult> {
  const { args, failures, hasUnknowns } = validate(VmRegistrationArgs, userInputs(news));
  if (!args) return { inputs: news, failures };
  // compared with defaults applied (an omitted `kind` and the stored "vm" are the same)
  const prev = olds && Object.keys(olds).length ? normalizeArgs(VmRegistrationArgs, olds) : undefined;
  const keys = ["storageDomain", "kind", "name", "cluster", "clone", "newName", "registrationConfiguration", "vnicProfileMappings", "allowPartialImport", "reassignBadMacs"];
  const changed = !prev || keys.some((k) => !jsonEqual(prev[k], (args as any)[k])) || !sameEngine(prev.engine, args.engine);
  if (hasUnknowns || !changed) return { inputs: news, failures };
  const fs: CheckFailure[] = [];
  const K = args.kind === "vm" ? "VM" : "template";
  try {
    const c = clientFor(args.engine);
    const clusters = await c.clusters.list();
    const names = clusters.map((x) => x.name);
    let cluster: Cluster | undefined;
    if (args.cluster) {
      cluster = clusters.find((x) => x.name === args.cluster);
      if (!cluster) fs.push({ property: "cluster", reason: `cluster: cluster "${args.cluster}" does not exist in engine ${args.engine.url}.${suggest(args.cluster, names)}` });
    }
    const rc = args.registrationConfiguration;
    (rc?.clusterMappings ?? []).forEach((m, i) => {
      if (!names.includes(m.to)) fs.push({ property: `registrationConfiguration.clusterMappings[${i}].to`, reason: `registrationConfiguration.clusterMappings[${i}].to: cluster "${m.to}" does not exist in engine ${args.engine.url}.${suggest(m.to, names)}` });
    });
    if (rc?.roleMappings?.length) {
      const roles = (await c.permissions.roles()).map((r) => r.name);
      rc.roleMappings.forEach((m, i) => {
        if (!roles.includes(m.to)) fs.push({ property: `registrationConfiguration.roleMappings[${i}].to`, reason: `registrationConfiguration.roleMappings[${i}].to: role "${m.to}" does not exist in engine ${args.engine.url}.${suggest(m.to, roles)}` });
      });
    }
    if (rc?.domainMappings?.length) {
      // The engine itself refuses neither: an unknown target domain makes DrMappingHelper.mapDbUsers keep the OVF's
      // user in its source domain (silently: a log line), and a `from` given twice is a 500 (Collectors.toMap's
      // "Duplicate key" in ExternalRegistrationConfigurationMapper). Both are caught here, before anything moves.
      const domains = (await listAuthzDomains(c.http)).map((d) => d.name);
      rc.domainMappings.forEach((m, i) => {
        const first = rc.domainMappings!.findIndex((x) => x.from === m.from);
        if (first !== i) {
          fs.push({ property: `registrationConfiguration.domainMappings[${i}].from`, reason: `registrationConfiguration.domainMappings[${i}].from: "${m.from}" is mapped twice (also domainMappings[${first}]); the engine takes one mapping per source name (it fails the register with an internal error otherwise). Keep one of them.` });
        }
        if (!domains.includes(m.to)) {
          fs.push({
            property: `registrationConfiguration.domainMappings[${i}].to`,
            reason: `registrationConfiguration.domainMappings[${i}].to: authz domain "${m.to}" does not exist in engine ${args.engine.url} (its domains: ${domains.join(", ") || "none"}). ` +
              `The engine would not refuse it: the users of the ${K} would silently keep their source domain. Map to one of those domains, or configure "${m.to}" (an AAA profile) in that engine first.`,
          });
        }
      });
    }
    if (args.vnicProfileMappings?.length) {
      const profiles = await listVnicProfiles(c.http);
      args.vnicProfileMappings.forEach((m, i) => {
        if (!profiles.some((p) => p.name === m.targetProfile)) {
          fs.push({
            property: `vnicProfileMappings[${i}].targetProfile`,
            reason: `vnicProfileMappings[${i}].targetProfile: vNIC profile "${m.targetProfile}" does not exist in engine ${args.engine.url} (it has ${profiles.length ? profiles.map((p) => p.name).join(", ") : "no vNIC profiles"}). Create it first, or drop the mapping (the NICs then keep their profile names).`,
          });
        }
      });
    }
    const sd = await c.storageDomains.findByName(args.storageDomain);
    let view: View | undefined;
    if (sd) {
      const un = await c.registration(args.kind).listUnregistered(sd.id).catch(() => [] as Array<Vm | Template>);
      const hit = un.find((x) => x.name === args.name);
      if (hit) {
        const tdc = cluster?.data_center?.id;
        const active = tdc ? new Set((await c.attachedStorageDomains.list(tdc)).filter((d) => d.status === "active").map((d) => d.id)) : undefined;
        const notMoving = (hit.disk_attachments ?? []).filter((a) => active && !active.has(diskSd(a.disk) ?? "")).map((a) => a.disk?.alias ?? "?");
        view = { entity: hit, where: "unregistered", notMoving };
      }
    }
    // the domain moves in this stack and is attached to no data center now (a run killed between the detach and
    // the attach: same engine, or known to either engine across two): no engine lists what it holds (the
    // unregistered rows are read from its OVF store at the attach; the source forgot the entities at the detach)
    let transit: string | undefined;
    let sourceClient: OvirtClient | undefined;
    if (!view && args.expectFrom) {
      const s = args.expectFrom.engine && !sameEngine(args.expectFrom.engine, args.engine) ? clientFor(args.expectFrom.engine) : c;
      const ssd = s === c ? sd : await s.storageDomains.findByName(args.storageDomain);
      if (ssd) view = await sourceView(s, args.kind, args.name, args.expectFrom.dataCenter, ssd.id);
      if (view) sourceClient = s;
      if (!view) {
        for (const [e, d] of [[c, sd], [s, ssd]] as const) {
          if (!d || transit) continue;
          const full = (await e.storageDomains.get(d.id)) ?? d;
          if (!attachedAnywhere(full)) transit = `data domain ${args.storageDomain} is attached to no data center of engine ${e.url} (a move in progress)`;
        }
      }
    }
    if (!view) {
      // registered already (an earlier run): create decides by ownership; nothing more to judge
      const already = args.kind === "vm" ? await c.vms.findByName(args.newName ?? args.name) : await c.templates.findOneByName(args.newName ?? args.name);
      if (!already && transit) {
        // Not a failure: failing here blocked the resume of a move killed in that window (`pulumi up` after the
        // README's recipe refused every registration). The register itself finds the entity after the attach, or
        // fails naming it.
        progressFor(news[PROGRESS_URN_KEY], `${K} ${args.name}`).info(`${transit}: ${K} ${args.name} is judged when it is registered, after the attach`);
      } else if (!already) {
        const on = sd ? (await c.registration(args.kind).listUnregistered(sd.id, "").catch(() => [])).map((x) => x.name) : [];
        fs.push({
          property: "name",
          reason: `name: no unregistered ${K} "${args.name}" on data domain ${args.storageDomain} in engine ${args.engine.url}` +
            (on.length ? ` (it holds: ${on.join(", ")})` : sd ? " (it holds none: is the domain attached to a data center of this engine?)" : " (the engine does not know the domain)") +
            (args.expectFrom ? `, nor a ${K} of that name with disks on it in ${args.expectFrom.dataCenter}` : "; set expectFrom: { dataCenter } when the domain moves in this stack") + ".",
        });
      }
    } else {
      const e = view.entity;
      const finalName = registeredName(args);
      if (view.notMoving.length && !args.allowPartialImport) {
        fs.push({ property: "allowPartialImport", reason: `allowPartialImport: ${K} ${args.name} has disks that will not be on an active domain of the target data center (${view.notMoving.join(", ")}); it can be registered only without them: set allowPartialImport: true, or move those disks onto ${args.storageDomain} first.` });
      }
      if (view.where === "source" && args.kind === "vm" && (e as Vm).status && (e as Vm).status !== "down") {
        fs.push({ property: "name", reason: `name: VM ${args.name} is ${(e as Vm).status} in ${args.expectFrom!.dataCenter}; the domain cannot leave while it runs. Shut it down first.` });
      }
      if (view.where === "source" && sourceClient && args.kind === "vm" && cluster && !args.reassignBadMacs && !args.clone) {
        const f = await macDuplicates(sourceClient, c, `${args.engine.url}|${args.engine.username}`, cluster, e as Vm);
        if (f) fs.push(f);
      }
      const arch = e.cpu?.architecture;
      if (cluster && arch && cluster.cpu?.architecture && arch !== cluster.cpu.architecture) {
        fs.push({ property: "cluster", reason: `cluster: cluster ${cluster.name} runs ${cluster.cpu.architecture}; ${K} ${args.name} is ${arch}. Pick a ${arch} cluster.` });
      }
      if (cluster) {
        const dcClusters = new Set(clusters.filter((x) => x.data_center?.id === cluster!.data_center?.id).map((x) => x.id));
        // names are unique per data center: any entity of that name in the target's data center (not this one)
        const named: Array<Vm | Template> = args.kind === "vm" ? (await c.vms.list(searchName(finalName))).filter((v) => v.name === finalName) : await c.templates.findByName(finalName);
        const same = nameTakenInTarget(named, dcClusters, e.id, args.clone);
        if (same) {
          fs.push({ property: "newName", reason: `newName: a ${K} named ${finalName} already exists in the target data center (id ${same.id}); set newName to register it under another name.` });
        }
      }
      if (!args.clone) {
        const dup = args.kind === "vm" ? await c.vms.get(e.id) : await c.templates.get(e.id);
        // within one engine the source itself has the id and leaves with the domain (operations/registration.ts)
        const crossEngine = !!args.expectFrom?.engine && !sameEngine(args.expectFrom.engine, args.engine);
        if (dup && idInUseAtRegister({ idInTarget: true, where: view.where, notMoving: view.notMoving.length, crossEngine, adopt: args.adopt })) {
          fs.push({ property: "clone", reason: `clone: engine ${args.engine.url} already has a ${K} with id ${e.id} (${dup.name}); set clone: true (and newName) to register a new copy of the entity, or adopt: true if that is this entity registered already.` });
        }
      }
      if (args.kind === "vm") {
        const tid = (e as Vm).template?.id;
        if (tid && tid !== BLANK_TEMPLATE_ID && !(await c.templates.get(tid)) && view.where === "unregistered") {
          const onDomain = sd ? (await c.registration("template").listUnregistered(sd.id, "").catch(() => [])).find((t) => t.id === tid) : undefined;
          if (!onDomain) fs.push({ property: "name", reason: `name: VM ${args.name} is thin (based on template id ${tid}), which is neither registered in engine ${args.engine.url} nor on data domain ${args.storageDomain}.` });
        }
      }
      progressFor(news[PROGRESS_URN_KEY], `${K} ${args.name}`).info(
        `registered from data domain ${args.storageDomain} into ${cluster?.name ?? "the cluster its mapping names"} as ${finalName} (same disks, nothing copied)` +
          (view.notMoving.length ? `; without ${view.notMoving.join(", ")}` : ""),
      );
    }
  } catch (e) {
    const f = connectionFailure(e);
    if (f) fs.push(f);
    else throw e;
  }
  return { inputs: news, failures: [...failures, ...fs] };
}
