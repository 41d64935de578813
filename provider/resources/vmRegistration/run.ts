/**
 * VmRegistration create/read/delete: registers an unregistered VM or template of a data domain into a cluster
 * (restapi BackendStorageDomainVmResource.register / BackendStorageDomainTemplateResource.register; bll
 * ImportVmFromConfigurationCommand, ImportVmTemplateFromConfigurationCommand). Nothing is copied: the entity's
 * disks are the volumes already on the domain.
 *
 * - Idempotent and resumable: the register is synchronous; an answer lost (SIGKILL, engine restart, timeout) is
 *   judged by the engine's state: still unregistered -> sent again; registered -> this resource's when the engine's
 *   audit log has an event with this resource's correlation id naming the entity (ownership.createdBy; event 174/180
 *   `... successfully imported from the given configuration`), adopted with `adopt: true`, otherwise a conflict.
 * - Delete never removes the entity: removing a registered VM deletes its disks (the data that moved). It stays
 *   registered; it leaves this engine when its data domain is detached (DataDomainAttachment's destroy).
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { searchName } from "../../client";
import type { OvirtClient, Template, Vm } from "../../client";
import { EngineError } from "../../client/errors";
import { progressFor } from "../../progress";
import { sleep } from "../../../lib/sleep";
import { ArgError, PROGRESS_URN_KEY, clientFor, engineText, updatedOutputs, userInputs } from "../common";
import { createdBy, resourceCorrelationId } from "../ownership";
import { VmRegistrationArgs, VmRegistrationOutputs } from "./args";

const lost = (e: unknown) => (e as Error | undefined)?.name === "EngineUnavailableError";

async function registeredNamed(c: OvirtClient, kind: "vm" | "template", name: string, clusterIds?: Set<string>): Promise<Vm | Template | undefined> {
  const all = kind === "vm" ? await c.vms.list(searchName(name), "disk_attachments.disk") : await c.templates.findByName(name);
  return all.find((x) => x.name === name && (!clusterIds || !x.cluster?.id || clusterIds.has(x.cluster.id)));
}

/** The engine's refusal in the resource's terms (the argument and the fix). */
function explain(e: unknown, a: VmRegistrationArgs): Error {
  const text = engineText(e);
  if (/duplicates in target MAC pool/i.test(text)) {
    return new ArgError("reassignBadMacs", `reassignBadMacs: VM ${a.name}'s MAC addresses are in use in the target cluster's MAC pool; set reassignBadMacs: true to give its NICs new MACs from the pool. Engine: ${text}`);
  }
  if (/already exist.*import as a clone|Storage Domain doesn't exist|Image does not exist|does not exist on any active storage domain/i.test(text)) {
    return new ArgError("allowPartialImport", `allowPartialImport: ${a.kind} ${a.name} cannot be registered whole: ${text}. Set allowPartialImport: true to register it without those disks.`);
  }
  if (/Name already exists/i.test(text)) return new ArgError("newName", `newName: the name ${a.newName ?? a.name} is taken in the target data center: ${text}. Set newName.`);
  if (/ID already exists/i.test(text)) return new ArgError("clone", `clone: ${text}. Set clone: true (and newName) to register a new copy.`);
  if (/relevant Cluster doesn't exist/i.test(text)) return new ArgError("cluster", `cluster: ${text}. Set cluster (or a registrationConfiguration.clusterMappings entry).`);
  return new Error(`registering ${a.kind} ${a.name} from data domain ${a.storageDomain} failed: ${text}`);
}

export async function create(inputs: any): Promise<dynamic.CreateResult> {
  const a = VmRegistrationArgs.parse(userInputs(inputs));
  const urn = inputs[PROGRESS_URN_KEY];
  const K = a.kind === "vm" ? "VM" : "template";
  const progress = progressFor(urn, `${K} ${a.name}`);
  const deadline = Date.now() + (a.timeoutMinutes ?? 30) * 60_000;
  const c = clientFor(a.engine);
  const sd = await c.storageDomains.findByName(a.storageDomain);
  if (!sd) throw new ArgError("storageDomain", `storageDomain: data domain ${a.storageDomain} is not known to engine ${a.engine.url}; attach it first (DataDomainAttachment, on which this resource should depend)`);
  const clusters = await c.clusters.list();
  const cluster = a.cluster ? clusters.find((x) => x.name === a.cluster) : undefined;
  if (a.cluster && !cluster) throw new ArgError("cluster", `cluster: cluster "${a.cluster}" does not exist in engine ${a.engine.url}`);
  const finalName = a.newName ?? a.name;
  const svc = c.registration(a.kind);
  const cid = resourceCorrelationId(urn, "register", sd.id, a.kind, a.name, finalName);
  let sourceId: string | undefined = inputs.__sourceId;
  let missingDisks: string[] = [];
  let ownership: "created" | "adopted" | undefined;
  for (let attempt = 0; ; attempt++) {
    const hit = (await svc.listUnregistered(sd.id)).find((x) => x.name === a.name);
    if (!hit) {
      // registered already (by an earlier run of this resource, or by someone else)?
      const dcIds = cluster ? new Set(clusters.filter((x) => x.data_center?.id === cluster.data_center?.id).map((x) => x.id)) : undefined;
      const done = await registeredNamed(c, a.kind, finalName, dcIds);
      if (done && (await createdBy(c, [cid], done.id))) {
        ownership = "created";
      } else if (done && a.adopt) {
        ownership = "adopted";
        progress.info(`adopting ${K} ${finalName} (id ${done.id}), registered before this stack: it is never removed by it`);
      } else if (done) {
        throw new ArgError("adopt", `adopt: ${K} ${finalName} (id ${done.id}) is registered in engine ${a.engine.url} already, not by this resource; set adopt: true to take it as it is, or newName (with clone: true) to register the entity again. Nothing was changed.`);
      } else {
        throw new ArgError("name", `name: data domain ${a.storageDomain} holds no unregistered ${K} "${a.name}" in engine ${a.engine.url} (is the domain attached and active in a data center there?). Nothing was changed.`);
      }
      const outs: VmRegistrationOutputs = { ...a, entityId: done.id, sourceId: sourceId ?? done.id, registeredName: done.name, clusterId: done.cluster?.id ?? cluster?.id ?? "", ownership };
      return { id: done.id, outs: { ...outs, [PROGRESS_URN_KEY]: urn } };
    }
    sourceId = hit.id;
    const hitDisks = (hit.disk_attachments ?? []).map((d) => ({ id: d.disk?.id ?? d.id, alias: d.disk?.alias ?? "?" }));
    progress.update(`registering ${K} ${a.name} from data domain ${a.storageDomain}${cluster ? ` into ${cluster.name}` : ""}`);
    try {
      await svc.register(sd.id, hit.id, {
        clusterId: cluster?.id,
        allowPartialImport: a.allowPartialImport,
        reassignBadMacs: a.kind === "vm" ? a.reassignBadMacs : undefined,
        clone: a.clone,
        newName: a.newName,
        registrationConfiguration: a.registrationConfiguration,
        correlationId: cid,
      });
    } catch (e) {
      if (lost(e) && Date.now() < deadline) {
        // the answer was lost, not necessarily the command: the next round reads what the engine did
        progress.info(`no answer to the register of ${K} ${a.name} (${(e as Error).message}); reading the engine's state`);
        await sleep(Math.min(500 * (attempt + 1), 5000));
        continue;
      }
      if (e instanceof EngineError || e instanceof ArgError) throw explain(e, a);
      throw e;
    }
    const dcIds = cluster ? new Set(clusters.filter((x) => x.data_center?.id === cluster.data_center?.id).map((x) => x.id)) : undefined;
    const reg = (a.clone ? undefined : a.kind === "vm" ? await c.vms.get(hit.id, "disk_attachments.disk") : await c.templates.get(hit.id)) ?? (await registeredNamed(c, a.kind, finalName, dcIds));
    if (!reg) throw new Error(`the engine answered the register of ${K} ${a.name} but has no ${K} ${finalName}`);
    const have = new Set(a.kind === "vm" ? ((reg as Vm).disk_attachments ?? []).map((d) => d.disk?.id ?? d.id) : (await c.templates.disks(reg.id)).map((d) => d.id));
    missingDisks = hitDisks.filter((d) => !have.has(d.id)).map((d) => d.alias);
    progress.info(`${K} ${a.name} registered as ${reg.name} (id ${reg.id})${missingDisks.length ? `, without disks ${missingDisks.join(", ")} (allowPartialImport)` : ""}; its disks are the ones on ${a.storageDomain}`);
    const outs: VmRegistrationOutputs = { ...a, entityId: reg.id, sourceId: hit.id, registeredName: reg.name, clusterId: reg.cluster?.id ?? cluster?.id ?? "", ownership: "created", missingDisks };
    return { id: reg.id, outs: { ...outs, [PROGRESS_URN_KEY]: urn } };
  }
}

/** Refresh: the entity by id; gone (removed, or its domain detached) = deleted; renamed / moved = the new values. */
export async function read(id: string, props: any): Promise<dynamic.ReadResult> {
  const p = userInputs(props) as VmRegistrationOutputs;
  const c = clientFor(p.engine);
  const e = p.kind === "template" ? await c.templates.get(id) : await c.vms.get(id);
  if (!e) return {};
  return { id, props: { ...props, registeredName: e.name, clusterId: e.cluster?.id ?? p.clusterId } };
}

export async function update(_id: string, olds: any, news: any): Promise<dynamic.UpdateResult> {
  const a = VmRegistrationArgs.parse(userInputs(news));
  return { outs: { ...updatedOutputs(userInputs(olds), a, VmRegistrationArgs), [PROGRESS_URN_KEY]: news[PROGRESS_URN_KEY] } };
}

/** Never removes: see the module comment. */
export async function del(_id: string, props: any): Promise<void> {
  const p = userInputs(props) as VmRegistrationOutputs;
  const K = p.kind === "template" ? "template" : "VM";
  progressFor(props[PROGRESS_URN_KEY], `${K} ${p.name}`).info(
    `${K} ${p.registeredName ?? p.name} stays registered (removing it would delete its disks, the data that moved); it leaves this engine when data domain ${p.storageDomain} is detached`,
  );
}
