/**
 * The storage steps of a data-domain move, each driven from the domain's current status so that a run killed at
 * any point (SIGKILL, an engine restart, a lost answer) continues from where the engine is: every loop reads the
 * DC-scoped status first and sends only the command that status calls for (active -> deactivate, maintenance ->
 * detach; not attached -> attach, maintenance -> activate), waiting through the transitional statuses.
 *
 * Engine rules followed (ovirt-engine bll, read, not copied): DeactivateStorageDomainWithOvfUpdateCommand (the OVF
 * store is written on the way to maintenance; VMs not down with disks there refuse it; the master role moves to
 * another active data domain: DeactivateStorageDomainCommand.electNewMaster), DetachStorageDomainFromPoolCommand
 * (StorageDomainCommandBase.isDetachAllowed / checkMasterDomainIsUp; detachNonMasterStorageDomain forgets the
 * domain's entities), AttachStorageDomainToPoolCommand (reads the OVF store into unregistered rows, then activates),
 * RemoveStorageDomainCommand with format=false and AddExistingFileStorageDomainCommand (`import=true`) across engines.
 */
import type { OvirtClient, StorageDomain, DataCenter, Vm, Template, HostStorage } from "../../client";
import { EngineError } from "../../client/errors";
import { newCorrelationId } from "../../client/connection";
import { sleep } from "../../../lib/sleep";
import type { Progress } from "../../progress";
import { ArgError, engineText } from "../common";
import type { LeftEntity } from "./args";

const TRANSITIONAL = ["locked", "activating", "preparing_for_maintenance", "detaching", "unknown"];

/** A lost answer (timeout, reset, 502/503/504): the status decides what happened. By name: another module copy. */
const lost = (e: unknown) => (e as Error | undefined)?.name === "EngineUnavailableError";
/** The engine's "not now" answers: its own flow (or running tasks) holds the domain. */
const busy = (e: unknown) => e instanceof EngineError && e.status === 409 && /in progress|running tasks|try again later/i.test(engineText(e));

function expired(deadline: number, what: string): void {
  if (Date.now() > deadline) throw new Error(`timed out ${what}; raise timeoutMinutes and run pulumi up again (each step continues from the domain's status)`);
}

/** Ids of the data centers a domain is attached to (global GET: `data_centers`). */
export function attachedDcIds(sd: StorageDomain): string[] {
  const ids = new Set<string>();
  for (const d of sd.data_centers ?? []) if (d.id) ids.add(d.id);
  if (sd.data_center?.id) ids.add(sd.data_center.id);
  return [...ids];
}

async function statusIn(c: OvirtClient, dcId: string, sdId: string, deadline: number): Promise<StorageDomain | undefined | "away"> {
  try {
    return await c.attachedStorageDomains.get(dcId, sdId);
  } catch (e) {
    if (lost(e) && Date.now() < deadline) return "away";
    throw e;
  }
}

/** Drives the domain out of data center `dc` (deactivate, then detach); nothing when it is not attached there. */
export async function detachFrom(c: OvirtClient, dc: { id: string; name: string }, sd: { id: string; name: string }, deadline: number, progress: Progress): Promise<void> {
  let delay = 200;
  for (;;) {
    expired(deadline, `detaching data domain ${sd.name} from ${dc.name}`);
    const cur = await statusIn(c, dc.id, sd.id, deadline);
    if (cur === undefined) return;
    try {
      if (cur === "away" || TRANSITIONAL.includes(cur.status ?? "")) {
        progress.update(`data domain ${sd.name} in ${dc.name}: ${cur === "away" ? "the engine does not answer" : `status ${cur.status}`}; waiting`);
      } else if (cur.status === "active") {
        progress.update(`deactivating data domain ${sd.name} in ${dc.name} (the engine writes its OVF store)`);
        await c.attachedStorageDomains.deactivate(dc.id, sd.id, { correlationId: newCorrelationId() });
        delay = 200;
        continue;
      } else {
        progress.update(`detaching data domain ${sd.name} from ${dc.name}`);
        await c.attachedStorageDomains.detach(dc.id, sd.id, newCorrelationId());
        delay = 200;
        continue;
      }
    } catch (e) {
      if (!lost(e) && !busy(e)) throw new Error(`data domain ${sd.name} in ${dc.name}: the engine refused: ${engineText(e)}`);
    }
    await sleep(delay);
    delay = Math.min(delay * 1.5, 2000);
  }
}

/** Drives the domain to `active` in data center `dc` (attach, then activate as needed). */
export async function attachActive(c: OvirtClient, dc: { id: string; name: string }, sd: { id: string; name: string }, deadline: number, progress: Progress): Promise<string> {
  let delay = 200;
  for (;;) {
    expired(deadline, `attaching data domain ${sd.name} to ${dc.name}`);
    const cur = await statusIn(c, dc.id, sd.id, deadline);
    try {
      if (cur === undefined) {
        progress.update(`attaching data domain ${sd.name} to ${dc.name} (the engine reads its OVF store)`);
        await c.attachedStorageDomains.attach(dc.id, sd.id, newCorrelationId());
        delay = 200;
        continue;
      }
      if (cur !== "away" && cur.status === "active") return "active";
      if (cur === "away" || TRANSITIONAL.includes(cur.status ?? "")) {
        progress.update(`data domain ${sd.name} in ${dc.name}: ${cur === "away" ? "the engine does not answer" : `status ${cur.status}`}; waiting`);
      } else {
        progress.update(`activating data domain ${sd.name} in ${dc.name}`);
        await c.attachedStorageDomains.activate(dc.id, sd.id, newCorrelationId());
        delay = 200;
        continue;
      }
    } catch (e) {
      // an attach sent again after a lost answer meets the first one (409): the next read sees it attached
      if (!lost(e) && !busy(e) && !(e instanceof EngineError && e.status === 409 && cur === undefined)) {
        throw new Error(`data domain ${sd.name} to ${dc.name}: the engine refused: ${engineText(e)}`);
      }
    }
    await sleep(delay);
    delay = Math.min(delay * 1.5, 2000);
  }
}

/** A host up in data center `dc` (or the named one): the host that mounts the domain for an import. */
export async function pickHost(c: OvirtClient, dc: DataCenter, name?: string): Promise<{ id: string; name: string }> {
  if (name) {
    const h = await c.hosts.findByName(name);
    if (!h) throw new ArgError("host", `host: host "${name}" does not exist in engine ${c.url}`);
    return h;
  }
  const clusters = (await c.clusters.list()).filter((cl) => cl.data_center?.id === dc.id).map((cl) => cl.id);
  const hosts = (await c.hosts.list()).filter((h) => h.status === "up" && (!h.cluster?.id || clusters.includes(h.cluster.id)));
  if (!hosts.length) throw new ArgError("host", `host: no host is up in data center ${dc.name} of engine ${c.url} to import the data domain; set host`);
  return hosts[0];
}

/** Removes the (detached) domain from engine `c` without formatting it; nothing when it is gone already. */
export async function removeKeepContent(c: OvirtClient, sd: { id: string; name: string }, progress: Progress): Promise<void> {
  const hosts = (await c.hosts.list()).filter((h) => h.status === "up");
  if (!hosts.length) throw new Error(`engine ${c.url} has no host up to remove data domain ${sd.name} (without format)`);
  progress.update(`removing data domain ${sd.name} from ${c.url} (format=false: its content and OVF store stay)`);
  await c.storageDomains.removeKeepContent(sd.id, hosts[0].name, newCorrelationId());
}

/** Imports an existing data domain into engine `c` (`POST /storagedomains`, `import=true`); an earlier run's import is found by name. */
export async function importData(c: OvirtClient, name: string, conn: HostStorage, host: { id: string }, progress: Progress): Promise<StorageDomain> {
  const again = await c.storageDomains.findByName(name);
  if (again) return again;
  progress.update(`importing data domain ${name} into ${c.url}`);
  try {
    return await c.storageDomains.importExisting({ name, type: "data", storage: conn, hostId: host.id, correlationId: newCorrelationId() });
  } catch (e) {
    const found = await c.storageDomains.findByName(name);
    if (found) return found;
    throw e;
  }
}

/** What a data center of engine `c` holds on the domain: the entities that leave with it (read only). */
export interface Leaving {
  entities: LeftEntity[];
  /** VMs not down with disks there (the engine refuses the deactivate) */
  running: string[];
  /** VMs with disks there AND elsewhere: they stay, without the disks of this domain */
  split: Array<{ name: string; here: string[]; elsewhere: string[] }>;
  /** thin VMs that leave because their template does */
  thinOfLeaving: string[];
}

const diskDomains = (vmOrT: Vm | Template): Array<{ alias: string; sd?: string }> =>
  (vmOrT.disk_attachments ?? []).map((a) => ({
    alias: a.disk?.alias ?? a.disk?.name ?? a.disk?.id ?? "?",
    sd: a.disk?.storage_domains?.[0]?.id ?? a.disk?.storage_domain?.id,
  }));

export async function leavingWith(c: OvirtClient, sdId: string): Promise<Leaving> {
  const clusters = new Map((await c.clusters.list()).map((cl) => [cl.id, cl.name]));
  const vms = await c.vms.list(undefined, "disk_attachments.disk");
  const templates = await c.templates.list();
  const out: Leaving = { entities: [], running: [], split: [], thinOfLeaving: [] };
  const leavingTemplates = new Set<string>();
  for (const t of templates) {
    const disks = await c.templates.disks(t.id);
    const on = disks.filter((d) => (d.storage_domains?.[0]?.id ?? d.storage_domain?.id) === sdId);
    // DetachStorageDomainFromPoolCommand forgets a template whose disks are all on the domain
    if (on.length && on.length === disks.length) {
      leavingTemplates.add(t.id);
      out.entities.push({ kind: "template", id: t.id, name: t.name, cluster: t.cluster?.id ? clusters.get(t.cluster.id) : undefined });
    }
  }
  for (const vm of vms) {
    const dd = diskDomains(vm);
    const here = dd.filter((d) => d.sd === sdId);
    const thin = !!vm.template?.id && leavingTemplates.has(vm.template.id);
    if (!here.length && !thin) continue;
    if (vm.status && vm.status !== "down") out.running.push(`${vm.name} (${vm.status})`);
    const elsewhere = dd.filter((d) => d.sd !== sdId);
    if (elsewhere.length && !thin) {
      out.split.push({ name: vm.name, here: here.map((d) => d.alias), elsewhere: elsewhere.map((d) => d.alias) });
      continue;
    }
    if (thin && !here.length) out.thinOfLeaving.push(vm.name);
    out.entities.push({ kind: "vm", id: vm.id, name: vm.name, cluster: vm.cluster?.id ? clusters.get(vm.cluster.id) : undefined });
  }
  return out;
}

/** The domain's master rules in its data center (read only): why the engine would refuse to let it go, if it would. */
export async function masterRefusal(c: OvirtClient, dc: { id: string; name: string }, sd: StorageDomain): Promise<string | undefined> {
  const all = await c.attachedStorageDomains.list(dc.id);
  const me = all.find((d) => d.id === sd.id);
  const others = all.filter((d) => d.id !== sd.id);
  if (me?.master) {
    const heir = others.find((d) => d.type === "data" && d.status === "active");
    // isDetachAllowed: the master may leave only alone, or after another active data domain took the role at its deactivate
    if (others.length && !heir) {
      return `data domain ${sd.name} is the master domain of ${dc.name} and no other active data domain there can take the master role ` +
        `(the engine refuses to detach the master while ${others.map((o) => o.name).join(", ")} ${others.length > 1 ? "are" : "is"} attached). ` +
        `Activate another data domain in ${dc.name} first.`;
    }
    return undefined;
  }
  const master = all.find((d) => d.master);
  if (master && master.status !== "active") {
    return `the master domain ${master.name} of ${dc.name} is ${master.status}; the engine detaches a domain only while the master is active. Activate ${master.name} first.`;
  }
  return undefined;
}

/**
 * Registers back, in the data center the domain returned to, what left with it (destroy): templates first (thin
 * VMs need them), each into its recorded cluster, else `fallbackCluster`. Already registered ones are skipped.
 */
export async function registerBack(
  c: OvirtClient,
  sd: { id: string; name: string },
  dc: { id: string; name: string },
  left: LeftEntity[],
  fallbackCluster: string | undefined,
  correlation: (e: LeftEntity) => string,
  progress: Progress,
): Promise<string[]> {
  const clusters = (await c.clusters.list()).filter((cl) => cl.data_center?.id === dc.id);
  const done: string[] = [];
  for (const kind of ["template", "vm"] as const) {
    const unregistered = await c.registration(kind).listUnregistered(sd.id, "");
    for (const e of left.filter((x) => x.kind === kind)) {
      if (!unregistered.some((u) => u.id === e.id)) continue;
      const clName = e.cluster && clusters.some((cl) => cl.name === e.cluster) ? e.cluster : fallbackCluster ?? (clusters.length === 1 ? clusters[0].name : undefined);
      const cl = clusters.find((x) => x.name === clName);
      if (!cl) {
        progress.warn(`${kind} ${e.name} is back on data domain ${sd.name} in ${dc.name} but not registered: no cluster to register it into (set moveFrom.cluster); register it from the domain's "Import VM" tab`);
        continue;
      }
      progress.update(`registering ${kind} ${e.name} back into ${cl.name}`);
      await c.registration(kind).register(sd.id, e.id, { clusterId: cl.id, correlationId: correlation(e) });
      done.push(`${kind} ${e.name}`);
    }
  }
  return done;
}
