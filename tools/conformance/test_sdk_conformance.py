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
        # --wire-check fail: what the SDK sends and what the simulator answers must be known to the API model
        # (simulator/README.md, Wire conformance); the list of violations is asserted empty at the end
        [node, CLI, "--port", "0", "--state", state, "--password", PASSWORD, "--bandwidth", "500", "--wire-check", "fail"],
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
    wire = admin("GET", "/wire-violations")
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    shutil.rmtree(state, ignore_errors=True)
    assert wire["violations"] == [], "wire conformance: XML the API model does not know: %s" % json.dumps(wire["violations"], indent=1)


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
    # the attach is synchronous (AttachStorageDomainToPoolCommand, with its auto-activation: locked -> maintenance ->
    # activating -> active): the POST answers when the domain is active
    t0 = time.time()
    src_attached.add(types.StorageDomain(id=export.id))
    assert time.time() - t0 >= 1.5, "the attach answered before the command ran (the simulator's default is 2 s)"
    assert sd_in_src.get().status == types.StorageDomainStatus.ACTIVE

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


def test_unknown_element_in_a_request_body_is_refused_as_the_engine_refuses_it(conn, sim):
    # restapi JAXBProvider + JAXBValidationEventHandler: JAXB's "unexpected element" stops the read; IOExceptionMapper
    # (UsageFinder) answers 400 "Request syntactically incorrect." (simulator/README.md, Wire conformance). The SDK's
    # writers cannot write such a tag: the raw request goes through the SDK's connection.
    from ovirtsdk4 import http as sdk_http
    from ovirtsdk4.reader import Reader

    vm = conn.system_service().vms_service().list(search="name=web-01")[0]
    before = conn.system_service().vms_service().vm_service(vm.id).get().description
    ctx = conn.send(sdk_http.Request(method="PUT", path="/vms/%s" % vm.id, body="<vm><description>x</description><bogus>1</bogus></vm>"))
    resp = conn.wait(ctx)
    assert resp.code == 400
    fault = Reader.read(resp.body)
    assert fault.reason == "Request syntactically incorrect."
    assert "/vm/bogus" in fault.detail
    assert conn.system_service().vms_service().vm_service(vm.id).get().description == before
    # the one violation this test made on purpose, taken off the list the fixture asserts empty
    wire = sim["admin"]("GET", "/wire-violations")
    assert [(r["direction"], r["status"], [x["path"] for x in r["violations"]]) for r in wire["violations"]] == [("request", 400, ["/vm/bogus"])]
    sim["admin"]("DELETE", "/wire-violations")


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


def _move_export_domain(conn, export_id, from_dc, to_dc):
    dcs_svc = conn.system_service().data_centers_service()
    frm = dcs_svc.data_center_service(by_name(dcs_svc.list(), from_dc).id).storage_domains_service()
    att = frm.storage_domain_service(export_id)
    att.deactivate()
    wait(lambda: att.get().status == types.StorageDomainStatus.MAINTENANCE, what="maintenance")
    att.remove()
    wait(lambda: export_id not in [s.id for s in frm.list()], what="detached")
    to = dcs_svc.data_center_service(by_name(dcs_svc.list(), to_dc).id).storage_domains_service()
    to.add(types.StorageDomain(id=export_id))
    wait(lambda: to.storage_domain_service(export_id).get().status == types.StorageDomainStatus.ACTIVE, what="active in %s" % to_dc)


def test_import_placement_and_collapse_as_the_engine_reads_them(conn):
    # issue 11 items 1 and 7, with the official SDK's own import_() calls:
    # - restapi getDiskToDestinationMap reads a template import's per-disk domains from <action><vm>, never <template>
    # - BackendStorageDomainVmResource.doImport reads collapse_snapshots through ParametersHelper (query/matrix): the
    #   SDK's import_(collapse_snapshots=True) puts it in the <action> body, which the engine does not read
    system = conn.system_service()
    sds = system.storage_domains_service()
    export = by_name(sds.list(), "export1")
    block = by_name(sds.list(), "block-target")
    data_target = by_name(sds.list(), "data-target")
    _move_export_domain(conn, export.id, "dc-target", "dc-source")
    tpl = by_name(system.templates_service().list(), "rhel9-base")
    system.templates_service().template_service(tpl.id).export(exclusive=True, storage_domain=types.StorageDomain(id=export.id))
    snap = system.vms_service().list(search="name=snap-01")[0]
    cid = str(uuid.uuid4())
    system.vms_service().vm_service(snap.id).export(exclusive=True, storage_domain=types.StorageDomain(id=export.id), headers={"Correlation-Id": cid})
    assert wait_job(conn, cid).status == types.JobStatus.FINISHED
    exp_tpls = sds.storage_domain_service(export.id).templates_service()
    wait(lambda: exp_tpls.list(), what="template on export1")
    _move_export_domain(conn, export.id, "dc-source", "dc-target")

    # item 1: the same per-disk choice under <template> lands on storage_domain, under <vm> where it says
    disk_id = exp_tpls.template_service(tpl.id).disks_service().list()[0].id
    placed = [types.DiskAttachment(disk=types.Disk(id=disk_id, storage_domains=[types.StorageDomain(id=block.id)]))]
    for name, kwargs, expected in (
        ("rhel9-under-template", {"template": types.Template(name="rhel9-under-template", disk_attachments=placed)}, data_target.id),
        ("rhel9-under-vm", {"template": types.Template(name="rhel9-under-vm"), "vm": types.Vm(disk_attachments=placed)}, block.id),
    ):
        exp_tpls.template_service(tpl.id).import_(
            storage_domain=types.StorageDomain(name="data-target"), cluster=types.Cluster(name="cl-target"), clone=True, async_=False, **kwargs
        )
        got = system.templates_service().list(search="name=%s" % name)
        assert len(got) == 1, name
        disks = system.templates_service().template_service(got[0].id).disk_attachments_service().list()
        assert [conn.follow_link(d.disk).storage_domains[0].id for d in disks] == [expected], name

    # item 7: the SDK's collapse_snapshots (in the body) is not read: a clone of a copy with snapshots is refused
    exp_vms = sds.storage_domain_service(export.id).vms_service()
    with pytest.raises(sdk.Error) as ei:
        exp_vms.vm_service(snap.id).import_(
            storage_domain=types.StorageDomain(name="data-target"), cluster=types.Cluster(name="cl-target"),
            clone=True, collapse_snapshots=True, vm=types.Vm(name="snap-01-sdk-body"),
        )
    assert ei.value.code == 400
    assert ei.value.fault.detail == "[Cannot import VM. The VM snap-01 has snapshots that must be collapsed.]"
    # as a query parameter (what the engine reads) it collapses
    exp_vms.vm_service(snap.id).import_(
        storage_domain=types.StorageDomain(name="data-target"), cluster=types.Cluster(name="cl-target"),
        clone=True, vm=types.Vm(name="snap-01-sdk-query"), query={"collapse_snapshots": "true"}, async_=False,
    )
    vm = system.vms_service().list(search="name=snap-01-sdk-query")[0]
    assert len(system.vms_service().vm_service(vm.id).snapshots_service().list()) == 1


# ---------------------------------------------------------------- engine restarts (issue 11, item 2)
# The engine at start-up (JobRepositoryImpl.finalizeJobs, job_sp.sql UpdateStartedExecutionEntitiesToUnknown): a job
# whose steps carry VDSM tasks (the disk copies of an export/import) stays STARTED and finishes when its copies end;
# a job without task steps becomes UNKNOWN with an end time. Each test runs its own simulator process (restarting
# the shared one would disturb the other tests).


def _restart_sim(state, bandwidth="8"):
    """Starts a simulator process on `state`; answers (process, info, admin)."""
    node = NODE if os.path.exists(NODE) else shutil.which("node")
    proc = subprocess.Popen(
        [node, CLI, "--port", "0", "--state", state, "--password", PASSWORD, "--bandwidth", bandwidth, "--wire-check", "fail"],
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

    return proc, info, admin


def _stop(proc, admin=None):
    wire = {"violations": []}
    if admin is not None:
        wire = admin("GET", "/wire-violations")
    proc.kill()
    proc.wait(10)
    assert wire["violations"] == [], "wire conformance: %s" % json.dumps(wire["violations"], indent=1)


def _export_started(c, vm_name):
    """Starts an export of `vm_name` to export1 and waits until its copy has begun; answers (vm, correlation id)."""
    system = c.system_service()
    vm = system.vms_service().list(search="name=%s" % vm_name)[0]
    export = by_name(system.storage_domains_service().list(), "export1")
    cid = str(uuid.uuid4())
    system.vms_service().vm_service(vm.id).export(exclusive=True, storage_domain=types.StorageDomain(id=export.id), headers={"Correlation-Id": cid})
    jobs = system.jobs_service()

    def copying():
        js = jobs.list(search="correlation_id=%s" % cid)
        if not js:
            return None
        steps = jobs.job_service(js[0].id).steps_service().list()
        return any(s.description == "Copying Image" and (s.progress or 0) > 0 for s in steps)

    wait(copying, timeout=30, what="the export copying")
    return vm, cid


def test_restart_mid_export_the_copy_goes_on_and_the_job_finishes():
    state = tempfile.mkdtemp(prefix="ovirt-sim-conf-restart-")
    proc, info, admin = _restart_sim(state)
    try:
        c = sdk.Connection(url=info["API URL"], username="admin@internal", password=PASSWORD, ca_file=info["CA file"])
        vm, cid = _export_started(c, "web-01")  # 32 MiB at 8 MiB/s
        r = admin("POST", "/restart", {"downMs": 500})
        assert r == {"ok": True, "resumedJobs": 1, "failedJobs": 0, "unknownJobs": 0}
        # the SDK logs in again (its token did not survive) and sees the same job still running, then finished
        system = c.system_service()
        job = wait(lambda: _try(lambda: system.jobs_service().list(search="correlation_id=%s" % cid)), what="the engine back")[0]
        assert job.status == types.JobStatus.STARTED
        assert system.vms_service().vm_service(vm.id).get().status == types.VmStatus.IMAGE_LOCKED
        job = wait_job(c, cid)
        assert job.status == types.JobStatus.FINISHED
        assert system.vms_service().vm_service(vm.id).get().status == types.VmStatus.DOWN
        assert sorted(e.code for e in system.events_service().list(search="correlation_id=%s" % cid)) == [1150, 1162]
        # the restart with failRunning: the copies fail after it, the export's failure path runs
        vm2, cid2 = _export_started(c, "app-01")
        r = admin("POST", "/restart", {"failRunning": True, "reason": "Injected: the SPM lost the task"})
        assert r == {"ok": True, "resumedJobs": 0, "failedJobs": 1, "unknownJobs": 0}
        job2 = wait_job(c, cid2)
        assert job2.status == types.JobStatus.FAILED
        assert system.vms_service().vm_service(vm2.id).get().status == types.VmStatus.DOWN
        assert 1151 in [e.code for e in system.events_service().list(search="correlation_id=%s" % cid2)]
        c.close()
    finally:
        _stop(proc, admin)
        shutil.rmtree(state, ignore_errors=True)


def _try(fn):
    try:
        return fn()
    except sdk.Error:
        return None


def test_new_process_after_a_kill_goes_on_with_the_copy_and_task_less_jobs_end_unknown():
    state = tempfile.mkdtemp(prefix="ovirt-sim-conf-kill-")
    proc, info, admin = _restart_sim(state, bandwidth="4")
    try:
        c = sdk.Connection(url=info["API URL"], username="admin@internal", password=PASSWORD, ca_file=info["CA file"])
        vm, cid = _export_started(c, "app-01")  # 16 MiB at 4 MiB/s
        c.close()
    finally:
        proc.kill()  # SIGKILL: state.json as the engine left it
        proc.wait(10)
    # a task-less command was running too (the engine's database holds its job with no step carrying a VDSM task)
    path = os.path.join(state, "state.json")
    with open(path) as f:
        st = json.load(f)
    t0 = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - 3))
    tid = "3f7e2b10-0000-4000-8000-0000000000c1"
    st["jobs"].append({
        "id": tid, "kind": "other", "description": "Task-less command", "status": "started", "startTime": t0, "lastUpdated": t0,
        "correlationId": "conf-taskless", "external": True, "autoCleared": True, "storageDomainIds": [], "bytes": 0,
        "startMs": int((time.time() - 3) * 1000),
        "steps": [{"id": "3f7e2b10-0000-4000-8000-0000000000c2", "type": "executing", "number": 0, "status": "started",
                   "description": "Executing", "startTime": t0}],
    })
    with open(path, "w") as f:
        json.dump(st, f)
    proc, info, admin = _restart_sim(state, bandwidth="500")
    try:
        c = sdk.Connection(url=info["API URL"], username="admin@internal", password=PASSWORD, ca_file=info["CA file"])
        system = c.system_service()
        job = wait_job(c, cid)
        assert job.status == types.JobStatus.FINISHED
        assert system.vms_service().vm_service(vm.id).get().status == types.VmStatus.DOWN
        export = by_name(system.storage_domains_service().list(), "export1")
        assert [v.id for v in system.storage_domains_service().storage_domain_service(export.id).vms_service().list()] == [vm.id]
        unknown = system.jobs_service().job_service(tid).get()
        assert unknown.status == types.JobStatus.UNKNOWN
        assert unknown.end_time is not None
        steps = system.jobs_service().job_service(tid).steps_service().list()
        assert [s.status for s in steps] == [types.StepStatus.UNKNOWN]
        c.close()
    finally:
        _stop(proc, admin)
        shutil.rmtree(state, ignore_errors=True)


# ---------------------------------------------------------------- data-domain move (issue 15): register through the SDK

def _dd_start(state, inventory):
    """Starts a simulator on `state` with an inventory file; answers (process, info, admin)."""
    inv = os.path.join(state, "inventory.json")
    with open(inv, "w") as f:
        json.dump(inventory, f)
    node = NODE if os.path.exists(NODE) else shutil.which("node")
    proc = subprocess.Popen(
        [node, CLI, "--port", "0", "--state", state, "--password", PASSWORD, "--inventory", inv,
         "--storage-transition-ms", "0", "--wire-check", "fail"],
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

    return proc, info, admin


def _dd_sums(admin, name):
    vm = [v for v in admin("GET", "/disks")["vms"] if v["name"] == name]
    return sorted(d["sha256"] for d in vm[0]["disks"]) if vm else None


def test_data_domain_move_and_register_with_the_sdk():
    state = tempfile.mkdtemp(prefix="ovirt-sim-conformance-dd-")
    proc, info, admin = _dd_start(state, {
        "dataCenters": [
            {"name": "dc-src", "clusters": [{"name": "cl-src"}], "hosts": [{"name": "h-src", "cluster": "cl-src"}],
             "storageDomains": [{"name": "data-src"}, {"name": "data-move"}]},
            {"name": "dc-dst", "clusters": [{"name": "cl-dst"}], "hosts": [{"name": "h-dst", "cluster": "cl-dst"}],
             "storageDomains": [{"name": "data-dst"}]},
        ],
        "templates": [{"name": "tpl", "cluster": "cl-src", "storageDomain": "data-move", "disks": [{"sizeMiB": 8}]}],
        "vms": [
            {"name": "web", "cluster": "cl-src", "snapshots": [{"description": "s1"}],
             "disks": [{"sizeMiB": 16, "storageDomain": "data-move"}, {"sizeMiB": 8, "sparse": False, "storageDomain": "data-move"}]},
            {"name": "thin", "cluster": "cl-src", "template": "tpl"},
        ],
    })
    try:
        c = sdk.Connection(url=info["API URL"], username="admin@internal", password=PASSWORD, ca_file=info["CA file"])
        system = c.system_service()
        before = {n: _dd_sums(admin, n) for n in ("web", "thin")}
        sds = system.storage_domains_service()
        move = by_name(sds.list(), "data-move")
        dcs = system.data_centers_service()
        src = by_name(dcs.list(), "dc-src")
        dst = by_name(dcs.list(), "dc-dst")
        attached = dcs.data_center_service(src.id).storage_domains_service().storage_domain_service(move.id)
        attached.deactivate()
        wait(lambda: attached.get().status == types.StorageDomainStatus.MAINTENANCE, what="maintenance")
        attached.remove()
        assert [v.name for v in system.vms_service().list()] == []
        dcs.data_center_service(dst.id).storage_domains_service().add(types.StorageDomain(id=move.id))
        moved = dcs.data_center_service(dst.id).storage_domains_service().storage_domain_service(move.id)
        wait(lambda: moved.get().status == types.StorageDomainStatus.ACTIVE, what="active in dc-dst")

        vms = sds.storage_domain_service(move.id).vms_service()
        tpls = sds.storage_domain_service(move.id).templates_service()
        assert sorted(v.name for v in vms.list(unregistered=True)) == ["thin", "web"]
        assert [t.name for t in tpls.list(unregistered=True)] == ["tpl"]
        thin = by_name(vms.list(unregistered=True), "thin")
        with pytest.raises(sdk.Error) as e:
            vms.vm_service(thin.id).register(cluster=types.Cluster(name="cl-dst"))
        assert e.value.code == 400
        assert "Cannot import VM. The relevant Template doesn't exist." in str(e.value)
        tpl = by_name(tpls.list(unregistered=True), "tpl")
        tpls.template_service(tpl.id).register(cluster=types.Cluster(name="cl-dst"))
        vms.vm_service(thin.id).register(cluster=types.Cluster(name="cl-dst"))
        web = by_name(vms.list(unregistered=True), "web")
        vms.vm_service(web.id).register(cluster=types.Cluster(name="cl-dst"), reassign_bad_macs=True, allow_partial_import=False)
        assert vms.list(unregistered=True) == []
        for n in ("web", "thin"):
            vm = by_name(system.vms_service().list(), n)
            assert system.clusters_service().cluster_service(vm.cluster.id).get().name == "cl-dst"
            assert _dd_sums(admin, n) == before[n], "%s: the registered disks are the same bytes" % n
        c.close()
    finally:
        _stop(proc, admin)
        shutil.rmtree(state, ignore_errors=True)


def test_authz_domains_listed_as_the_engine_lists_them(conn):
    # restapi aaa/BackendDomainsResource: one per authz name, id = upper-case hex of the name (DirectoryEntryIdUtils)
    domains = conn.system_service().domains_service().list()
    assert [(d.name, d.id) for d in domains] == [("internal-authz", "696E7465726E616C2D617574687A")]
    one = conn.system_service().domains_service().domain_service(domains[0].id).get()
    assert one.name == "internal-authz"
