"""Conformance of the engine simulator with the official oVirt Python SDK (ovirt-engine-sdk-python 4.6.x).

Starts `node dist/simulator/cli.js` on port 0 with a fresh state dir, then drives the export-domain move through
the SDK only (the admin API is used for disk checksums and the request log).
"""
import json
import os
import re
import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.request
import uuid

import pytest
import ovirtsdk4 as sdk
import ovirtsdk4.types as types

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
NODE = os.path.join(ROOT, "node_modules", ".bin", "node")
CLI = os.path.join(ROOT, "dist", "simulator", "cli.js")
PASSWORD = "Conf0rmance!pw"


@pytest.fixture(scope="module")
def sim():
    state = tempfile.mkdtemp(prefix="ovirt-sim-conformance-")
    node = NODE if os.path.exists(NODE) else shutil.which("node")
    proc = subprocess.Popen(
        [node, CLI, "--port", "0", "--state", state, "--password", PASSWORD, "--bandwidth", "500"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    info = {}
    deadline = time.time() + 30
    while len(info) < 3 and time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.match(r"^(API URL|Admin URL|CA file): (.+)$", line.strip())
        if m:
            info[m.group(1)] = m.group(2)
    assert len(info) == 3, "simulator did not print its URLs: %r" % info
    ctx = ssl.create_default_context(cafile=info["CA file"])

    def admin(method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(info["Admin URL"] + path, data=data, method=method, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, context=ctx) as r:
            return json.loads(r.read().decode() or "null")

    yield {"url": info["API URL"], "ca": info["CA file"], "admin": admin}
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="module")
def conn(sim):
    c = sdk.Connection(url=sim["url"], username="admin@internal", password=PASSWORD, ca_file=sim["ca"])
    yield c
    c.close()


def wait(predicate, timeout=60, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = predicate()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("timed out waiting for %s" % what)


def wait_job(conn, correlation_id):
    jobs = conn.system_service().jobs_service()

    def done():
        js = jobs.list(search="correlation_id=%s" % correlation_id)
        if js and js[0].status != types.JobStatus.STARTED:
            return js[0]
        return None

    return wait(done, what="job %s" % correlation_id)


def by_name(items, name):
    found = [i for i in items if i.name == name]
    assert len(found) == 1, "expected one %s, got %r" % (name, [i.name for i in items])
    return found[0]


def test_connection_and_listing(conn):
    assert conn.test(raise_exception=True)
    api = conn.system_service().get()
    assert api.product_info.name == "oVirt Engine"
    dcs = conn.system_service().data_centers_service().list()
    assert sorted(d.name for d in dcs) == ["dc-source", "dc-target"]
    sds = conn.system_service().storage_domains_service().list()
    export = by_name(sds, "export1")
    assert export.type == types.StorageDomainType.EXPORT
    assert by_name(sds, "block-target").storage.type == types.StorageType.ISCSI
    vms = conn.system_service().vms_service().list()
    assert len(vms) == 7
    run = conn.system_service().vms_service().list(search="name=run-01")
    assert [v.status for v in run] == [types.VmStatus.UP]
    ppc = by_name(vms, "ppc-01")
    assert ppc.cpu.architecture == types.Architecture.PPC64


def test_export_move_import(conn, sim):
    system = conn.system_service()
    dcs_svc = system.data_centers_service()
    src = by_name(dcs_svc.list(), "dc-source")
    dst = by_name(dcs_svc.list(), "dc-target")
    export = by_name(system.storage_domains_service().list(), "export1")
    src_attached = dcs_svc.data_center_service(src.id).storage_domains_service()

    # start from a detached export domain, then attach + activate it in the source DC
    sd_in_src = src_attached.storage_domain_service(export.id)
    sd_in_src.deactivate()
    wait(lambda: sd_in_src.get().status == types.StorageDomainStatus.MAINTENANCE, what="maintenance")
    sd_in_src.remove()
    # detach goes through `detaching` like the engine: poll until the domain left the data center
    wait(lambda: export.id not in [s.id for s in src_attached.list()], what="detached")
    src_attached.add(types.StorageDomain(id=export.id))
    # the engine auto-activates after attaching: locked -> maintenance -> activating -> active
    assert sd_in_src.get().status == types.StorageDomainStatus.LOCKED
    wait(lambda: sd_in_src.get().status == types.StorageDomainStatus.ACTIVE, what="active")

    # export a VM with snapshots, exclusive + discard_snapshots
    vms_svc = system.vms_service()
    vm = vms_svc.list(search="name=snap-01")[0]
    assert len(vms_svc.vm_service(vm.id).snapshots_service().list()) == 3
    cid = str(uuid.uuid4())
    vms_svc.vm_service(vm.id).export(
        exclusive=True, discard_snapshots=True, storage_domain=types.StorageDomain(id=export.id), headers={"Correlation-Id": cid}
    )
    assert vms_svc.vm_service(vm.id).get().status in (types.VmStatus.IMAGE_LOCKED, types.VmStatus.DOWN)
    job = wait_job(conn, cid)
    assert job.status == types.JobStatus.FINISHED
    assert vms_svc.vm_service(vm.id).get().status == types.VmStatus.DOWN
    events = system.events_service().list(search="correlation_id=%s" % cid)
    assert sorted(e.code for e in events) == [1150, 1162]

    # the VMs on the export domain
    exp_vms = system.storage_domains_service().storage_domain_service(export.id).vms_service()
    listed = exp_vms.list()
    assert [v.name for v in listed] == ["snap-01"]

    # move the export domain to the target DC: deactivate, detach, attach
    sd_in_src.deactivate()
    wait(lambda: sd_in_src.get().status == types.StorageDomainStatus.MAINTENANCE, what="maintenance")
    sd_in_src.remove()
    wait(lambda: export.id not in [s.id for s in src_attached.list()], what="detached")
    dst_attached = dcs_svc.data_center_service(dst.id).storage_domains_service()
    dst_attached.add(types.StorageDomain(id=export.id))
    sd_in_dst = dst_attached.storage_domain_service(export.id)
    wait(lambda: sd_in_dst.get().status == types.StorageDomainStatus.ACTIVE, what="active in target")

    # import with clone and a new name
    cid2 = str(uuid.uuid4())
    exp_vms.vm_service(vm.id).import_(
        storage_domain=types.StorageDomain(name="data-target"),
        cluster=types.Cluster(name="cl-target"),
        clone=True,
        collapse_snapshots=True,
        vm=types.Vm(name="snap-01-moved"),
        headers={"Correlation-Id": cid2},
    )
    job2 = wait_job(conn, cid2)
    assert job2.status == types.JobStatus.FINISHED
    steps = system.jobs_service().job_service(job2.id).steps_service().list()
    assert any(s.description == "Copying Image" and s.progress == 100 for s in steps)
    moved = vms_svc.list(search="name=snap-01-moved")
    assert len(moved) == 1 and moved[0].id != vm.id
    assert moved[0].status == types.VmStatus.DOWN
    das = vms_svc.vm_service(moved[0].id).disk_attachments_service().list()
    assert len(das) == 1

    # checksums of the logical content: source == export copy == imported VM
    report = sim["admin"]("GET", "/disks")
    s = sorted(d["sha256"] for v in report["vms"] if v["name"] == "snap-01" for d in v["disks"])
    m = sorted(d["sha256"] for v in report["vms"] if v["name"] == "snap-01-moved" for d in v["disks"])
    e = sorted(d["sha256"] for x in report["exportDomains"] for v in x["vms"] if v["name"] == "snap-01" for d in v["disks"])
    assert s and s == m == e
    assert [v["dataCenter"] for v in report["vms"] if v["name"] == "snap-01-moved"] == ["dc-target"]


def test_engine_fault_reaches_the_sdk(conn):
    # after the move the export domain is in dc-target: exporting a dc-source VM to it is refused (409)
    vms_svc = conn.system_service().vms_service()
    run = vms_svc.list(search="name=run-01")[0]
    export = conn.system_service().storage_domains_service().list(search="name=export1")[0]
    with pytest.raises(sdk.Error) as ei:
        vms_svc.vm_service(run.id).export(storage_domain=types.StorageDomain(id=export.id))
    assert ei.value.code == 409
    assert ei.value.fault.reason == "Operation Failed"
    assert ei.value.fault.detail == "[Cannot export VM. The target Data Center does not contain the VM.]"


def test_import_from_an_export_domain_of_another_data_center(conn):
    # issue 11 item 6 (bll ImportVmCommand.validateBeforeCloneVm -> validateAndSetVmFromExportDomain): export1 is
    # attached and active in dc-target only; an import into dc-source does not find the VM "in" the export domain
    system = conn.system_service()
    export = system.storage_domains_service().list(search="name=export1")[0]
    exp_vms = system.storage_domains_service().storage_domain_service(export.id).vms_service()
    vm = by_name(exp_vms.list(), "snap-01")
    with pytest.raises(sdk.Error) as ei:
        exp_vms.vm_service(vm.id).import_(
            storage_domain=types.StorageDomain(name="data-source"),
            cluster=types.Cluster(name="cl-source"),
            clone=True,
            collapse_snapshots=True,
            vm=types.Vm(name="snap-01-back"),
        )
    assert ei.value.code == 400
    assert ei.value.fault.detail == "[Cannot import VM. VM not exists in export domain]"
    assert system.vms_service().list(search="name=snap-01-back") == []
    # no cluster in the request: ImportVmCommandBase.validate has no fallback to the OVF's cluster
    with pytest.raises(sdk.Error) as ei:
        exp_vms.vm_service(vm.id).import_(
            storage_domain=types.StorageDomain(name="data-target"), clone=True, collapse_snapshots=True, vm=types.Vm(name="snap-01-nocl")
        )
    assert ei.value.code == 400
    assert ei.value.fault.detail == "[Cannot import VM. The relevant Cluster doesn't exist.]"
    # in maintenance the export domain cannot be read (GetAllFromExportDomainQuery -> VDSM StorageDomainDoesNotExist)
    dst = system.data_centers_service().list(search="name=dc-target")[0]
    att = system.data_centers_service().data_center_service(dst.id).storage_domains_service().storage_domain_service(export.id)
    att.deactivate()
    wait(lambda: att.get().status == types.StorageDomainStatus.MAINTENANCE, what="maintenance")
    try:
        with pytest.raises(sdk.Error) as ei:
            exp_vms.list()
        assert ei.value.code == 400
        assert ei.value.fault.detail == "Storage domain cannot be reached. Please ensure it is accessible from the host(s)."
    finally:
        att.activate()
        wait(lambda: att.get().status == types.StorageDomainStatus.ACTIVE, what="active again")


def test_unregistered_listing(conn):
    # issue 11 item 10 (restapi BackendStorageDomainVmsResource.list: unregistered -> GetUnregisteredVms)
    sds = conn.system_service().storage_domains_service()
    export = sds.list(search="name=export1")[0]
    data = sds.list(search="name=data-target")[0]
    exp = sds.storage_domain_service(export.id)
    assert exp.vms_service().list(unregistered=True) == []
    assert exp.templates_service().list(unregistered=True) == []
    assert [v.name for v in exp.vms_service().list(unregistered=False)] == ["snap-01"]
    on_data = sds.storage_domain_service(data.id).vms_service()
    assert on_data.list(unregistered=True) == []
    assert "snap-01-moved" in [v.name for v in on_data.list()]


def test_template_search_joined_with_vms(conn):
    # issue 11 item 11 (searchbackend TemplateCrossRefAutoCompleter + SearchObjectAutoCompleter templates-vms join)
    tpls = conn.system_service().templates_service()
    assert [t.name for t in tpls.list(search="vm.name=thin-01")] == ["rhel9-base"]
    assert [t.name for t in tpls.list(search="Vms.name=thin*")] == ["rhel9-base"]
    assert [t.name for t in tpls.list(search="vm.name=web-01")] == ["Blank"]
    assert tpls.list(search="vm.name=no-such-vm") == []


def test_close_logs_out(sim):
    c = sdk.Connection(url=sim["url"], username="admin@internal", password=PASSWORD, ca_file=sim["ca"])
    c.system_service().data_centers_service().list()
    before = sim["admin"]("GET", "/requests")["byPath"].get("POST /ovirt-engine/services/sso-logout", 0)
    c.close()
    after = sim["admin"]("GET", "/requests")["byPath"].get("POST /ovirt-engine/services/sso-logout", 0)
    assert after == before + 1
