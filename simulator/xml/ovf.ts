// oVirt OVF dialect (as written by the engine's OvfVmWriter/OvfTemplateWriter) for the export domain: a writer and a
// reader for the subset the simulator round-trips (identity, hardware, OS, template reference, snapshots, disks with
// their volume chains, NICs).
import { XMLParser } from "fast-xml-parser";
import { BLANK_TEMPLATE_ID, CpuArchitecture } from "../model/types";

export interface OvfVolume {
  id: string;
  parentId: string; // BLANK_TEMPLATE_ID-style zero uuid when none
  /** disk (image group) of the parent volume: differs from the disk for thin VMs (template disk) */
  parentDiskId?: string;
  format: "cow" | "raw";
  sparse: boolean;
  snapshotId?: string;
}

export interface OvfDisk {
  diskId: string;
  alias: string;
  description: string;
  provisionedSize: number;
  sparse: boolean;
  format: "cow" | "raw";
  bootable: boolean;
  interface: string;
  storageDomainId: string;
  /** volume chain, base first (for thin VMs the base is the template's, not listed here) */
  volumes: OvfVolume[];
}

export interface OvfEntity {
  kind: "vm" | "template";
  id: string;
  name: string;
  description: string;
  comment: string;
  memoryBytes: number;
  cpus: number;
  osType: string;
  cpuArchitecture: CpuArchitecture;
  origin: string;
  vmType: "server" | "desktop" | "high_performance";
  creationDate: string;
  exportDate: string;
  clusterName: string;
  templateId: string;
  templateName: string;
  snapshots: { id: string; description: string; date: string; type: "active" | "regular" }[];
  disks: OvfDisk[];
  nics: { id: string; name: string; mac: string; interface: string }[];
}

const ZERO = BLANK_TEMPLATE_ID;

export function esc(s: string): string {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

const ORIGIN_CODES: Record<string, number> = { rhev: 0, vmware: 1, xen: 2, ovirt: 3, external: 4, kvm: 7, hosted_engine: 5 };
const VM_TYPES: Record<string, number> = { desktop: 0, server: 1, high_performance: 2 };

function ovfDate(iso: string): string {
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

function fromOvfDate(s: string | undefined): string {
  if (!s) return new Date(0).toISOString();
  const m = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})/.exec(s);
  if (!m) return new Date(0).toISOString();
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])).toISOString();
}

export function archFromOs(os: string): CpuArchitecture {
  if (/ppc64/i.test(os)) return "ppc64";
  if (/s390x/i.test(os)) return "s390x";
  if (/aarch64/i.test(os)) return "aarch64";
  return "x86_64";
}

export function writeOvf(e: OvfEntity, storagePoolId: string): string {
  const gib = (b: number) => Math.max(1, Math.ceil(b / 1024 ** 3));
  const refs: string[] = [];
  const diskSec: string[] = [];
  const items: string[] = [];
  for (const d of e.disks) {
    d.volumes.forEach((v, i) => {
      const leaf = i === d.volumes.length - 1;
      refs.push(`<File ovf:href="${d.diskId}/${v.id}" ovf:id="${v.id}" ovf:size="${d.provisionedSize}" ovf:description="${esc(d.description)}" ovf:disk_storage_type="IMAGE" ovf:cinder_volume_type=""></File>`);
      const parentRef = v.parentId && v.parentId !== ZERO ? `${v.parentDiskId ?? d.diskId}/${v.parentId}` : "";
      diskSec.push(
        `<Disk ovf:diskId="${v.id}" ovf:size="${gib(d.provisionedSize)}" ovf:actual_size="${gib(d.provisionedSize)}" ovf:vm_snapshot_id="${v.snapshotId ?? ""}" ovf:parentRef="${parentRef}" ovf:fileRef="${d.diskId}/${v.id}" ovf:format="http://www.vmware.com/specifications/vmdk.html#sparse" ovf:volume-format="${v.format.toUpperCase()}" ovf:volume-type="${v.sparse ? "Sparse" : "Preallocated"}" ovf:disk-interface="${d.interface === "virtio_scsi" ? "VirtIO_SCSI" : d.interface === "virtio" ? "VirtIO" : "IDE"}" ovf:read-only="false" ovf:shareable="false" ovf:boot="${d.bootable}" ovf:pass-discard="false" ovf:incremental-backup="false" ovf:disk-alias="${esc(d.alias)}" ovf:disk-description="${esc(d.description)}" ovf:wipe-after-delete="false"></Disk>`,
      );
      if (leaf) {
        items.push(
          `<Item><rasd:Caption>${esc(d.alias)}</rasd:Caption><rasd:InstanceId>${v.id}</rasd:InstanceId><rasd:ResourceType>17</rasd:ResourceType><rasd:HostResource>${d.diskId}/${v.id}</rasd:HostResource><rasd:Parent>${v.parentId || ZERO}</rasd:Parent><rasd:Template>${e.templateId}</rasd:Template><rasd:ApplicationList></rasd:ApplicationList><rasd:StorageId>${d.storageDomainId}</rasd:StorageId><rasd:StoragePoolId>${storagePoolId}</rasd:StoragePoolId><rasd:CreationDate>${ovfDate(e.creationDate)}</rasd:CreationDate><rasd:LastModified>${ovfDate(e.exportDate)}</rasd:LastModified><rasd:last_modified_date>${ovfDate(e.exportDate)}</rasd:last_modified_date><Type>disk</Type><Device>disk</Device><rasd:Address></rasd:Address><BootOrder>${d.bootable ? 1 : 0}</BootOrder><IsPlugged>true</IsPlugged><IsReadOnly>false</IsReadOnly><Alias></Alias></Item>`,
        );
      }
    });
  }
  for (const n of e.nics) {
    items.push(
      `<Item><rasd:Caption>Ethernet adapter on ovirtmgmt</rasd:Caption><rasd:InstanceId>${n.id}</rasd:InstanceId><rasd:ResourceType>10</rasd:ResourceType><rasd:OtherResourceType>ovirtmgmt</rasd:OtherResourceType><rasd:ResourceSubType>3</rasd:ResourceSubType><rasd:Connection>ovirtmgmt</rasd:Connection><rasd:Linked>true</rasd:Linked><rasd:Name>${esc(n.name)}</rasd:Name><rasd:ElementName>${esc(n.name)}</rasd:ElementName><rasd:MACAddress>${n.mac}</rasd:MACAddress><rasd:speed>10000</rasd:speed><Type>interface</Type><Device>bridge</Device><rasd:Address></rasd:Address><BootOrder>0</BootOrder><IsPlugged>true</IsPlugged><IsReadOnly>false</IsReadOnly><Alias></Alias></Item>`,
    );
  }
  const snaps = e.snapshots
    .map((s) => `<Snapshot ovf:id="${s.id}"><Type>${s.type.toUpperCase()}</Type><Description>${esc(s.description)}</Description><CreationDate>${ovfDate(s.date)}</CreationDate></Snapshot>`)
    .join("");
  const memMiB = Math.round(e.memoryBytes / 1024 ** 2);
  const contentType = e.kind === "vm" ? "ovf:VirtualSystem_Type" : "ovf:VirtualSystem_Type";
  const tplExtra =
    e.kind === "template"
      ? `<TemplateType>TEMPLATE</TemplateType><BaseTemplateId>${e.id}</BaseTemplateId><TemplateVersionNumber>1</TemplateVersionNumber><TemplateVersionName>base version</TemplateVersionName><IsDisabled>false</IsDisabled>`
      : `<TemplateId>${e.templateId}</TemplateId><TemplateName>${esc(e.templateName)}</TemplateName><OriginalTemplateId>${e.templateId}</OriginalTemplateId><OriginalTemplateName>${esc(e.templateName)}</OriginalTemplateName>`;
  return (
    `<?xml version='1.0' encoding='UTF-8'?>\n` +
    `<ovf:Envelope xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1/" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ovf:version="4.4.0.0">` +
    `<References>${refs.join("")}</References>` +
    `<NetworkSection><Info>List of networks</Info><Network ovf:name="ovirtmgmt"></Network></NetworkSection>` +
    `<Section xsi:type="ovf:DiskSection_Type"><Info>List of Virtual Disks</Info>${diskSec.join("")}</Section>` +
    `<Content ovf:id="out" xsi:type="${contentType}">` +
    `<Name>${esc(e.name)}</Name><Description>${esc(e.description)}</Description><Comment>${esc(e.comment)}</Comment>` +
    `<CreationDate>${ovfDate(e.creationDate)}</CreationDate><ExportDate>${ovfDate(e.exportDate)}</ExportDate>` +
    `<DeleteProtected>false</DeleteProtected><IsStateless>false</IsStateless><Origin>${ORIGIN_CODES[e.origin] ?? 3}</Origin>` +
    `<VmType>${VM_TYPES[e.vmType] ?? 1}</VmType><ClusterName>${esc(e.clusterName)}</ClusterName>${tplExtra}` +
    `<Section ovf:id="${e.id}" ovf:required="false" xsi:type="ovf:OperatingSystemSection_Type"><Info>Guest Operating System</Info><Description>${esc(e.osType)}</Description></Section>` +
    `<Section xsi:type="ovf:VirtualHardwareSection_Type"><Info>${e.cpus} CPU, ${memMiB} Memeory</Info><System><vssd:VirtualSystemType>ENGINE 4.4.0.0</vssd:VirtualSystemType></System>` +
    `<Item><rasd:Caption>${e.cpus} virtual cpu</rasd:Caption><rasd:Description>Number of virtual CPU</rasd:Description><rasd:InstanceId>1</rasd:InstanceId><rasd:ResourceType>3</rasd:ResourceType><rasd:num_of_sockets>${e.cpus}</rasd:num_of_sockets><rasd:cpu_per_socket>1</rasd:cpu_per_socket><rasd:threads_per_cpu>1</rasd:threads_per_cpu><rasd:max_num_of_vcpus>${e.cpus * 16}</rasd:max_num_of_vcpus></Item>` +
    `<Item><rasd:Caption>${memMiB} MB of memory</rasd:Caption><rasd:Description>Memory Size</rasd:Description><rasd:InstanceId>2</rasd:InstanceId><rasd:ResourceType>4</rasd:ResourceType><rasd:AllocationUnits>MegaBytes</rasd:AllocationUnits><rasd:VirtualQuantity>${memMiB}</rasd:VirtualQuantity></Item>` +
    items.join("") +
    `</Section>` +
    `<Section xsi:type="ovf:SnapshotsSection_Type"><Info></Info>${snaps}</Section>` +
    `</Content></ovf:Envelope>\n`
  );
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => ["File", "Disk", "Item", "Section", "Snapshot"].includes(name),
});

function text(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "object") return String((v as Record<string, unknown>)["#text"] ?? "");
  return String(v);
}

/** Reads an OVF written by writeOvf (or the engine). `capacityOf(diskId, volId)` gives the byte capacity. */
export function readOvf(xml: string, kind: "vm" | "template", capacityOf: (diskId: string, volId: string) => number | undefined): OvfEntity {
  const doc = parser.parse(xml);
  const env = doc.Envelope;
  if (!env) throw new Error("not an OVF envelope");
  const content = env.Content ?? {};
  const sections: Record<string, unknown>[] = [...(env.Section ?? []), ...(content.Section ?? [])];
  const byType = (t: string) => sections.find((s) => String(s["@type"] ?? "").endsWith(t)) as Record<string, any> | undefined;
  const diskSection = byType("DiskSection_Type");
  const hw = byType("VirtualHardwareSection_Type") ?? {};
  const osSec = byType("OperatingSystemSection_Type");
  const snapSec = byType("SnapshotsSection_Type");
  const items: Record<string, any>[] = hw.Item ?? [];
  const cpuItem = items.find((i) => text(i.ResourceType) === "3");
  const memItem = items.find((i) => text(i.ResourceType) === "4");
  const diskItems = items.filter((i) => text(i.ResourceType) === "17");
  const nicItems = items.filter((i) => text(i.ResourceType) === "10");
  const id = String(osSec?.["@id"] ?? "");
  const osType = text(osSec?.Description);
  const vols = (diskSection?.Disk ?? []) as Record<string, string>[];
  const byDisk = new Map<string, Record<string, string>[]>();
  for (const v of vols) {
    const [diskId] = String(v["@fileRef"]).split("/");
    if (!byDisk.has(diskId)) byDisk.set(diskId, []);
    byDisk.get(diskId)!.push(v);
  }
  const disks: OvfDisk[] = [];
  for (const [diskId, list] of byDisk) {
    // order the chain: base (parent not in this disk) first
    const inDisk = new Map(list.map((v) => [String(v["@fileRef"]).split("/")[1], v]));
    const ordered: Record<string, string>[] = [];
    let cur = list.find((v) => {
      const pr = String(v["@parentRef"] ?? "");
      if (!pr) return true;
      const [pd, pv] = pr.split("/");
      return pd !== diskId || !inDisk.has(pv);
    });
    const seen = new Set<string>();
    while (cur && !seen.has(cur["@diskId"])) {
      ordered.push(cur);
      seen.add(cur["@diskId"]);
      const curId = cur["@diskId"];
      cur = list.find((v) => String(v["@parentRef"] ?? "") === `${diskId}/${curId}`);
    }
    const leaf = ordered[ordered.length - 1];
    const item = diskItems.find((i) => text(i.HostResource).startsWith(`${diskId}/`));
    const volumes: OvfVolume[] = ordered.map((v) => {
      const pr = String(v["@parentRef"] ?? "");
      const [pd, pv] = pr ? pr.split("/") : ["", ""];
      return {
        id: v["@diskId"],
        parentId: pv || ZERO,
        parentDiskId: pd || undefined,
        format: String(v["@volume-format"]).toLowerCase() === "raw" ? "raw" : "cow",
        sparse: String(v["@volume-type"]).toLowerCase() !== "preallocated",
        snapshotId: v["@vm_snapshot_id"] || undefined,
      };
    });
    const iface = String(leaf?.["@disk-interface"] ?? "VirtIO_SCSI");
    disks.push({
      diskId,
      alias: String(leaf?.["@disk-alias"] ?? ""),
      description: String(leaf?.["@disk-description"] ?? ""),
      provisionedSize: capacityOf(diskId, leaf?.["@diskId"]) ?? Number(leaf?.["@size"] ?? 1) * 1024 ** 3,
      sparse: volumes[volumes.length - 1]?.sparse ?? true,
      format: volumes[volumes.length - 1]?.format ?? "cow",
      bootable: String(leaf?.["@boot"]) === "true",
      interface: iface === "VirtIO_SCSI" ? "virtio_scsi" : iface === "VirtIO" ? "virtio" : "ide",
      storageDomainId: text(item?.StorageId),
      volumes,
    });
  }
  const originNum = Number(text(content.Origin) || 3);
  const origin = Object.entries(ORIGIN_CODES).find(([, n]) => n === originNum)?.[0] ?? "ovirt";
  const vmTypeNum = Number(text(content.VmType) || 1);
  const vmType = (Object.entries(VM_TYPES).find(([, n]) => n === vmTypeNum)?.[0] ?? "server") as OvfEntity["vmType"];
  const tplId = kind === "vm" ? text(content.TemplateId) || ZERO : ZERO;
  return {
    kind,
    id,
    name: text(content.Name),
    description: text(content.Description),
    comment: text(content.Comment),
    memoryBytes: Number(text(memItem?.VirtualQuantity) || 1024) * 1024 ** 2,
    cpus: Number(text(cpuItem?.num_of_sockets) || 1) * Number(text(cpuItem?.cpu_per_socket) || 1) * Number(text(cpuItem?.threads_per_cpu) || 1),
    osType,
    cpuArchitecture: archFromOs(osType),
    origin,
    vmType,
    creationDate: fromOvfDate(text(content.CreationDate)),
    exportDate: fromOvfDate(text(content.ExportDate)),
    clusterName: text(content.ClusterName),
    templateId: tplId,
    templateName: kind === "vm" ? text(content.TemplateName) || "Blank" : "Blank",
    snapshots: ((snapSec?.Snapshot ?? []) as Record<string, any>[]).map((s) => ({
      id: String(s["@id"]),
      description: text(s.Description),
      date: fromOvfDate(text(s.CreationDate)),
      type: text(s.Type).toLowerCase() === "active" ? "active" : "regular",
    })),
    disks,
    nics: nicItems.map((n) => ({ id: text(n.InstanceId), name: text(n.Name), mac: text(n.MACAddress), interface: "virtio" })),
  };
}
