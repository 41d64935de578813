// Entity -> XML object mappers (Engine REST API v4 shapes, see shared/reference/ovirt-api.md and
// oVirt/ovirt-engine-api-model types/). Pure functions of the model; services decide what to show.
import { Engine } from "../engine";
import {
  BLANK_TEMPLATE_ID, ClusterRec, CpuProfileRec, DataCenterRec, DiskRec, EventRec, HostRec, JobRec, NicRec, SnapshotRec, StepRec,
  StorageDomainRec, TemplateRec, VmRec,
} from "../model/types";
import { OvfDisk, OvfEntity } from "./ovf";

export type Obj = Record<string, unknown>;

/** Engine timestamps: xs:dateTime with an explicit offset, e.g. 2024-05-01T10:00:00.123+00:00 */
/** VMStatus.isNotRunning(): the statuses in which the engine shows no start time. */
const NOT_RUNNING = new Set(["down", "suspended", "image_locked", "image_illegal"]);

export function ts(iso: string | undefined): string | undefined {
  if (!iso) return undefined;
  return iso.replace(/Z$/, "+00:00");
}

export function follows(follow: string | null | undefined): Set<string> {
  const s = new Set<string>();
  for (const part of (follow ?? "").split(",")) {
    const p = part.trim();
    if (!p) continue;
    const segs = p.split(".");
    for (let i = 1; i <= segs.length; i++) s.add(segs.slice(0, i).join("."));
  }
  return s;
}

export class Writer {
  constructor(
    public readonly engine: Engine,
    public readonly base: string,
  ) {}

  href(p: string): string {
    return `${this.base}/${p}`;
  }
  link(p: string, id: string): Obj {
    return { "@_href": this.href(p), "@_id": id };
  }
  rels(prefix: string, rels: string[]): Obj[] {
    return rels.map((r) => ({ "@_href": this.href(`${prefix}/${r}`), "@_rel": r }));
  }
  actions(prefix: string, verbs: string[]): Obj {
    return { link: verbs.map((v) => ({ "@_href": this.href(`${prefix}/${v}`), "@_rel": v })) };
  }
  version(major: number, minor: number): Obj {
    return { major, minor };
  }

  dataCenter(dc: DataCenterRec, f = new Set<string>()): Obj {
    const p = `datacenters/${dc.id}`;
    const o: Obj = {
      "@_href": this.href(p),
      "@_id": dc.id,
      actions: this.actions(p, ["cleanfinishedtasks", "setmaster"]),
      name: dc.name,
      description: dc.description,
      link: this.rels(p, ["clusters", "iscsibonds", "networks", "permissions", "quotas", "qoss", "storagedomains"]),
      local: false,
      quota_mode: "disabled",
      status: dc.status,
      storage_format: "v5",
      supported_versions: { version: [this.version(dc.versionMajor, dc.versionMinor)] },
      version: this.version(dc.versionMajor, dc.versionMinor),
    };
    if (f.has("storage_domains") || f.has("storagedomains")) {
      o.storage_domains = { storage_domain: this.engine.state.storageDomains.filter((s) => s.dataCenterId === dc.id).map((s) => this.storageDomain(s, dc)) };
    }
    if (f.has("clusters")) o.clusters = { cluster: this.engine.state.clusters.filter((c) => c.dataCenterId === dc.id).map((c) => this.cluster(c)) };
    return o;
  }

  cluster(c: ClusterRec): Obj {
    const p = `clusters/${c.id}`;
    return {
      "@_href": this.href(p),
      "@_id": c.id,
      actions: this.actions(p, ["resetemulatedmachine", "syncallnetworks", "upgrade"]),
      name: c.name,
      description: "",
      link: this.rels(p, ["permissions", "glustervolumes", "affinitygroups", "cpuprofiles", "networks", "enabledfeatures"]),
      cpu: { architecture: c.cpuArchitecture, type: c.cpuType },
      firewall_type: "firewalld",
      version: this.version(4, 7),
      data_center: this.link(`datacenters/${c.dataCenterId}`, c.dataCenterId),
    };
  }

  cpuProfile(cp: CpuProfileRec): Obj {
    const p = `cpuprofiles/${cp.id}`;
    return {
      "@_href": this.href(p),
      "@_id": cp.id,
      name: cp.name,
      description: cp.description,
      link: this.rels(p, ["permissions"]),
      cluster: this.link(`clusters/${cp.clusterId}`, cp.clusterId),
    };
  }

  private cpuProfileLink(e: { clusterId: string; cpuProfileId?: string }): Obj | undefined {
    const cp = this.engine.effectiveCpuProfile(e);
    return cp ? this.link(`cpuprofiles/${cp.id}`, cp.id) : undefined;
  }

  host(h: HostRec): Obj {
    const p = `hosts/${h.id}`;
    return {
      "@_href": this.href(p),
      "@_id": h.id,
      actions: this.actions(p, ["activate", "deactivate", "refresh"]),
      name: h.name,
      comment: "",
      link: this.rels(p, ["nics", "storage", "permissions", "statistics"]),
      address: h.address,
      cpu: { topology: { cores: 4, sockets: 1, threads: 1 } },
      os: { type: "RHEL", version: { full_version: "9", major: 9 } },
      port: 54321,
      status: h.status,
      type: "rhel",
      cluster: this.link(`clusters/${h.clusterId}`, h.clusterId),
    };
  }

  storageDomain(sd: StorageDomainRec, scopedDc?: DataCenterRec): Obj {
    const p = scopedDc ? `datacenters/${scopedDc.id}/storagedomains/${sd.id}` : `storagedomains/${sd.id}`;
    const used = sd.type === "export" ? this.exportUsed(sd) : this.engine.usedBytes(sd.id);
    const o: Obj = {
      "@_href": this.href(p),
      "@_id": sd.id,
      actions: this.actions(p, scopedDc ? ["activate", "deactivate"] : ["isattached", "refreshluns", "reduceluns", "updateovfstore"]),
      name: sd.name,
      description: sd.description,
      comment: "",
      link: this.rels(`storagedomains/${sd.id}`, [
        "diskprofiles", "diskssnapshots", "permissions", "storageconnections",
        ...(sd.type === "export" ? ["vms", "templates"] : ["disks", "vms", "templates", "images"]),
      ]),
      available: Math.max(0, sd.sizeBytes - used),
      backup: false,
      block_size: 512,
      committed: used,
      critical_space_action_blocker: 5,
      discard_after_delete: false,
      external_status: "ok",
      master: !!sd.master,
      storage:
        sd.storageType === "nfs"
          ? { address: sd.address || "127.0.0.1", nfs_version: "auto", path: sd.exportPath, type: "nfs" }
          : { type: "iscsi", volume_group: { "@_id": sd.id.slice(0, 8) } },
      storage_format: "v5",
      supports_discard: false,
      supports_discard_zeroes_data: false,
      type: sd.type,
      used,
      warning_low_space_indicator: 10,
      wipe_after_delete: false,
    };
    if (sd.dataCenterId) {
      if (scopedDc) {
        o.status = sd.status;
        o.data_center = this.link(`datacenters/${sd.dataCenterId}`, sd.dataCenterId);
      }
      o.data_centers = { data_center: [this.link(`datacenters/${sd.dataCenterId}`, sd.dataCenterId)] };
    } else {
      o.status = "unattached";
    }
    return o;
  }

  private exportUsed(sd: StorageDomainRec): number {
    // avoid walking the directory on every GET: cached by the export-domain contents service
    return this.engine.exportUsedCache.get(sd.id) ?? 0;
  }

  vm(vm: VmRec, f = new Set<string>()): Obj {
    const p = `vms/${vm.id}`;
    const o: Obj = {
      "@_href": this.href(p),
      "@_id": vm.id,
      actions: this.actions(p, ["export", "shutdown", "start", "stop", "suspend", "reboot", "migrate", "clone", "detach"]),
      name: vm.name,
      description: vm.description,
      comment: vm.comment,
      link: this.rels(p, [
        "applications", "cdroms", "diskattachments", "graphicsconsoles", "hostdevices", "katelloerrata", "nics",
        "permissions", "reporteddevices", "snapshots", "statistics", "tags", "watchdogs",
      ]),
      bios: { type: "q35_sea_bios" },
      cpu: { architecture: vm.cpuArchitecture, topology: { cores: 1, sockets: vm.cpus, threads: 1 } },
      creation_time: ts(vm.creationTime),
      delete_protected: false,
      high_availability: { enabled: false, priority: 0 },
      memory: vm.memoryBytes,
      origin: vm.origin,
      os: { boot: { devices: { device: ["hd"] } }, type: vm.osType },
      stateless: false,
      type: vm.type,
      // VmMapper: start_time only while the VM runs (status not down/suspended/image_locked/image_illegal),
      // stop_time whenever the engine has one
      start_time: vm.startTime && !NOT_RUNNING.has(vm.status) ? ts(vm.startTime) : undefined,
      status: vm.status,
      stop_reason: "",
      stop_time: ts(vm.stopTime),
      cluster: this.link(`clusters/${vm.clusterId}`, vm.clusterId),
      cpu_profile: this.cpuProfileLink(vm),
      template: this.link(`templates/${vm.templateId}`, vm.templateId),
      original_template: this.link(`templates/${vm.templateId}`, vm.templateId),
    };
    if (vm.hostId) o.host = this.link(`hosts/${vm.hostId}`, vm.hostId);
    this.inlineVmChildren(o, vm.disks, vm.nics, vm.snapshots, p, vm.id, f, "vm");
    if (f.has("cluster")) {
      const c = this.engine.cluster(vm.clusterId);
      if (c) o.cluster = this.cluster(c);
    }
    if (f.has("template")) {
      const t = this.engine.template(vm.templateId);
      if (t) o.template = this.template(t);
    }
    return o;
  }

  private inlineVmChildren(o: Obj, disks: DiskRec[], nics: NicRec[], snaps: SnapshotRec[] | undefined, p: string, ownerId: string, f: Set<string>, owner: "vm" | "template"): void {
    if (f.has("disk_attachments") || f.has("diskattachments")) {
      const withDisk = f.has("disk_attachments.disk") || f.has("diskattachments.disk");
      o.disk_attachments = { disk_attachment: disks.map((d) => this.diskAttachment(d, p, ownerId, owner, withDisk)) };
    }
    if (f.has("nics")) o.nics = { nic: nics.map((n) => this.nic(n, p, ownerId, owner)) };
    if (f.has("snapshots") && snaps) o.snapshots = { snapshot: snaps.map((s) => this.snapshot(s, p, ownerId)) };
    // no `follow=disks`: the API model's Vm and Template have no `disks` member (their disks are disk_attachments,
    // types/Vm.java, VmBase.java), so the engine's JAXB classes cannot carry one (wire conformance)
  }

  template(t: TemplateRec, f = new Set<string>()): Obj {
    const p = `templates/${t.id}`;
    const o: Obj = {
      "@_href": this.href(p),
      "@_id": t.id,
      actions: this.actions(p, ["export"]),
      name: t.name,
      description: t.description,
      comment: t.comment,
      link: this.rels(p, ["cdroms", "diskattachments", "graphicsconsoles", "nics", "permissions", "tags", "watchdogs"]),
      bios: { type: "q35_sea_bios" },
      cpu: { architecture: t.cpuArchitecture, topology: { cores: 1, sockets: t.cpus, threads: 1 } },
      creation_time: ts(t.creationTime),
      delete_protected: false,
      memory: t.memoryBytes,
      origin: t.origin,
      os: { type: t.osType },
      stateless: false,
      type: t.type,
      status: t.status,
      version: { version_name: "base version", version_number: 1, base_template: this.link(p, t.id) },
      cluster: this.link(`clusters/${t.clusterId}`, t.clusterId),
      cpu_profile: this.cpuProfileLink(t),
    };
    this.inlineVmChildren(o, t.disks, t.nics, undefined, p, t.id, f, "template");
    return o;
  }

  blankTemplate(): Obj {
    const p = `templates/${BLANK_TEMPLATE_ID}`;
    return {
      "@_href": this.href(p),
      "@_id": BLANK_TEMPLATE_ID,
      name: "Blank",
      description: "Blank template",
      link: this.rels(p, ["diskattachments", "nics", "permissions"]),
      cpu: { architecture: "undefined", topology: { cores: 1, sockets: 1, threads: 1 } },
      memory: 1073741824,
      os: { type: "other" },
      type: "server",
      status: "ok",
      version: { version_name: "base version", version_number: 1, base_template: this.link(p, BLANK_TEMPLATE_ID) },
    };
  }

  disk(d: DiskRec): Obj {
    const p = `disks/${d.id}`;
    const leaf = d.volumes[d.volumes.length - 1];
    return {
      "@_href": this.href(p),
      "@_id": d.id,
      actions: this.actions(p, ["copy", "export", "move", "reduce", "refreshlun", "sparsify"]),
      name: d.alias,
      description: d.description ?? "",
      link: this.rels(p, ["disksnapshots", "permissions", "statistics"]),
      actual_size: d.sparse ? Math.min(d.provisionedSize, Math.ceil(d.provisionedSize / 2)) : d.provisionedSize,
      alias: d.alias,
      backup: "none",
      content_type: "data",
      format: d.format,
      image_id: leaf?.id,
      propagate_errors: false,
      provisioned_size: d.provisionedSize,
      qcow_version: d.format === "cow" ? "qcow2_v3" : undefined,
      shareable: false,
      sparse: d.sparse,
      status: d.status,
      storage_type: "image",
      total_size: d.provisionedSize,
      wipe_after_delete: false,
      disk_profile: this.link(`diskprofiles/${d.storageDomainId}`, d.storageDomainId),
      storage_domains: { storage_domain: [this.link(`storagedomains/${d.storageDomainId}`, d.storageDomainId)] },
    };
  }

  diskAttachment(d: DiskRec, ownerPath: string, ownerId: string, owner: "vm" | "template", withDisk: boolean): Obj {
    return {
      "@_href": this.href(`${ownerPath}/diskattachments/${d.id}`),
      "@_id": d.id,
      active: true,
      bootable: d.bootable,
      interface: d.interface,
      logical_name: undefined,
      pass_discard: false,
      read_only: false,
      uses_scsi_reservation: false,
      disk: withDisk ? this.disk(d) : this.link(`disks/${d.id}`, d.id),
      [owner]: this.link(ownerPath, ownerId),
    };
  }

  nic(n: NicRec, ownerPath: string, ownerId: string, owner: "vm" | "template"): Obj {
    return {
      "@_href": this.href(`${ownerPath}/nics/${n.id}`),
      "@_id": n.id,
      name: n.name,
      interface: n.interface,
      linked: true,
      mac: { address: n.mac },
      plugged: true,
      vnic_profile: this.link(`vnicprofiles/0000000a-000a-000a-000a-000000000398`, "0000000a-000a-000a-000a-000000000398"),
      [owner]: this.link(ownerPath, ownerId),
    };
  }

  snapshot(s: SnapshotRec, vmPath: string, vmId: string): Obj {
    const p = `${vmPath}/snapshots/${s.id}`;
    return {
      "@_href": this.href(p),
      "@_id": s.id,
      actions: this.actions(p, ["restore"]),
      description: s.description,
      link: this.rels(p, ["disks", "nics"]),
      date: ts(s.date),
      persist_memorystate: false,
      snapshot_status: s.status,
      snapshot_type: s.type,
      vm: this.link(vmPath, vmId),
    };
  }

  job(j: JobRec, f = new Set<string>()): Obj {
    const p = `jobs/${j.id}`;
    const o: Obj = {
      "@_href": this.href(p),
      "@_id": j.id,
      actions: this.actions(p, ["clear", "end"]),
      description: j.description,
      link: this.rels(p, ["steps"]),
      auto_cleared: j.autoCleared,
      end_time: ts(j.endTime),
      external: j.external,
      last_updated: ts(j.lastUpdated),
      start_time: ts(j.startTime),
      status: j.status,
      owner: this.link("users/00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000001"),
    };
    if (f.has("steps")) o.steps = { step: j.steps.map((s) => this.step(j, s)) };
    return o;
  }

  step(j: JobRec, s: StepRec): Obj {
    const p = `jobs/${j.id}/steps/${s.id}`;
    return {
      "@_href": this.href(p),
      "@_id": s.id,
      actions: this.actions(p, ["end"]),
      description: s.description,
      end_time: ts(s.endTime),
      external: false,
      // restapi StepMapper: external_type from the step's external system (VDSM for a step following an SPM task,
      // ExecutionHandler.updateStepExternalId); `external` is only for steps added by an external client
      external_type: s.externalId ? "vdsm" : undefined,
      number: s.number,
      progress: s.progress,
      start_time: ts(s.startTime),
      status: s.status,
      type: s.type,
      job: this.link(`jobs/${j.id}`, j.id),
      parent_step: s.parentStepId ? this.link(`jobs/${j.id}/steps/${s.parentStepId}`, s.parentStepId) : undefined,
    };
  }

  event(e: EventRec): Obj {
    const l = (kind: string, id: string | undefined) => (id ? this.link(`${kind}/${id}`, id) : undefined);
    return {
      "@_href": this.href(`events/${e.id}`),
      "@_id": e.id,
      description: e.description,
      code: e.code,
      correlation_id: e.correlationId,
      custom_id: e.customId,
      flood_rate: 30,
      index: e.index,
      origin: e.origin,
      severity: e.severity,
      time: ts(e.time),
      cluster: l("clusters", e.clusterId),
      data_center: l("datacenters", e.dataCenterId),
      host: l("hosts", e.hostId),
      storage_domain: l("storagedomains", e.storageDomainId),
      template: l("templates", e.templateId),
      user: this.link("users/00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000001"),
      vm: l("vms", e.vmId),
    };
  }

  // ---------- export domain contents (built from the OVF)
  ovfVm(sd: StorageDomainRec, e: OvfEntity, f = new Set<string>()): Obj {
    const coll = e.kind === "vm" ? "vms" : "templates";
    const p = `storagedomains/${sd.id}/${coll}/${e.id}`;
    const o: Obj = {
      "@_href": this.href(p),
      "@_id": e.id,
      actions: this.actions(p, ["import", "register"]),
      name: e.name,
      description: e.description,
      comment: e.comment,
      link: this.rels(p, e.kind === "vm" ? ["diskattachments", "disks"] : ["disks"]),
      cpu: { architecture: e.cpuArchitecture, topology: { cores: 1, sockets: e.cpus, threads: 1 } },
      creation_time: ts(e.creationDate),
      memory: e.memoryBytes,
      origin: e.origin,
      os: { type: e.osType },
      stateless: false,
      type: e.vmType,
      status: e.kind === "vm" ? "down" : "ok",
      storage_domain: this.link(`storagedomains/${sd.id}`, sd.id),
    };
    if (e.kind === "vm") {
      o.template = this.link(`templates/${e.templateId}`, e.templateId);
      o.original_template = this.link(`templates/${e.templateId}`, e.templateId);
      if (f.has("snapshots")) o.snapshots = { snapshot: e.snapshots.map((s) => ({ "@_id": s.id, description: s.description, date: ts(s.date), snapshot_type: s.type, snapshot_status: "ok" })) };
    } else {
      o.version = { version_name: "base version", version_number: 1 };
    }
    // the disks only as disk_attachments: the API model's Vm/Template have no `disks` member (types/Vm.java,
    // VmBase.java); the copy's disks as such are the `disks` sub-collection (BackendExportDomainDisksResource)
    if (f.has("disk_attachments") || f.has("diskattachments")) {
      o.disk_attachments = {
        disk_attachment: e.disks.map((d) => ({ "@_href": this.href(`${p}/diskattachments/${d.diskId}`), "@_id": d.diskId, active: true, bootable: d.bootable, interface: d.interface, disk: this.ovfDisk(sd, p, d) })),
      };
    }
    // no `nics`: the engine's StorageDomainVmService has no nics sub-collection and shows a copy's NICs nowhere
    // (`follow=nics` inlines nothing here; the provider reads MACs from the source VM, macConflicts.ts)
    return o;
  }

  ovfDisk(sd: StorageDomainRec, ownerPath: string, d: OvfDisk): Obj {
    const leaf = d.volumes[d.volumes.length - 1];
    return {
      "@_href": this.href(`${ownerPath}/disks/${d.diskId}`),
      "@_id": d.diskId,
      name: d.alias,
      description: d.description,
      actual_size: d.provisionedSize,
      alias: d.alias,
      format: d.format,
      image_id: leaf?.id,
      provisioned_size: d.provisionedSize,
      shareable: false,
      sparse: d.sparse,
      status: "ok",
      storage_type: "image",
      storage_domains: { storage_domain: [this.link(`storagedomains/${sd.id}`, sd.id)] },
    };
  }
}
