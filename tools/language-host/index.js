// A Pulumi language host for Node.js programs, speaking the LanguageRuntime gRPC protocol.
//
// Why this exists: the Go module of Pulumi's own host (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3)
// is refused by the Go module proxy reachable here (403 on its version list and on every pseudo-version), so it
// cannot be built from the registries. The CLI itself (pkg/v3) builds fine. This host does what the Go host does
// for compiled JavaScript programs: it runs the program with `@pulumi/pulumi/cmd/run` from the program's own
// node_modules, passing the monitor/engine addresses, project, stack, config and dry-run flag, and reports the
// exit the same way (exit code 32 = the program already reported its error, "bail").
"use strict";
const path = require("path");
const fs = require("fs");
const { spawn } = require("child_process");

// The CLI passes flags (-root=..., -tracing=...) and the engine address as the last positional argument.
const positional = process.argv.slice(2).filter((a) => !a.startsWith("-"));
let engineAddress = positional[positional.length - 1] || "";

// Like the Go plugins' health check, started before anything else is loaded: when the CLI that started us is gone
// (killed, crashed) we are reparented and its engine address stops answering; then stop the program and exit instead
// of lingering as an orphan (dist/provider/orphanWatchdog.js; `exec` in pulumi-language-nodejs makes the CLI our parent).
const programs = new Set();
function stopPrograms() {
    for (const child of programs) child.kill("SIGKILL");
}
try {
    require(path.join(__dirname, "..", "..", "dist", "provider", "orphanWatchdog.js")).startOrphanWatchdog({
        address: engineAddress,
        watchParent: true,
        label: "language host",
        onOrphaned: stopPrograms,
    });
} catch (e) {
    process.stderr.write(`language host: no orphan watchdog (${e && e.message}); run scripts/toolchain.sh\n`);
}

function fromProgram(dir, request) {
    return require(require.resolve(request, { paths: [dir, __dirname, process.cwd()] }));
}

const startDir = process.cwd();
const grpc = fromProgram(startDir, "@grpc/grpc-js");
const langrpc = fromProgram(startDir, "@pulumi/pulumi/proto/language_grpc_pb.js");
const langproto = fromProgram(startDir, "@pulumi/pulumi/proto/language_pb.js");
const plugproto = fromProgram(startDir, "@pulumi/pulumi/proto/plugin_pb.js");
const emptyproto = fromProgram(startDir, "google-protobuf/google/protobuf/empty_pb.js");
const pulumiPkg = fromProgram(startDir, "@pulumi/pulumi/package.json");

function programPath(req) {
    const info = req.getInfo && req.getInfo();
    const dir = (info && info.getProgramDirectory()) || req.getPwd() || process.cwd();
    const entry = (info && info.getEntryPoint()) || req.getProgram() || ".";
    return path.resolve(dir, entry);
}

const impl = {
    handshake(call, cb) {
        const req = call.request;
        if (req.getEngineAddress && req.getEngineAddress()) engineAddress = req.getEngineAddress();
        cb(null, new langproto.LanguageHandshakeResponse());
    },
    getPluginInfo(call, cb) {
        const r = new plugproto.PluginInfo();
        r.setVersion(pulumiPkg.version);
        cb(null, r);
    },
    getRequiredPlugins(call, cb) {
        const r = new langproto.GetRequiredPluginsResponse();
        r.setPluginsList([]);
        cb(null, r);
    },
    getRequiredPackages(call, cb) {
        const r = new langproto.GetRequiredPackagesResponse();
        r.setPackagesList([]);
        cb(null, r);
    },
    getProgramDependencies(call, cb) {
        cb(null, new langproto.GetProgramDependenciesResponse());
    },
    about(call, cb) {
        const r = new langproto.AboutResponse();
        r.setExecutable(process.execPath);
        r.setVersion(process.version);
        cb(null, r);
    },
    runtimeOptionsPrompts(call, cb) {
        cb(null, new langproto.RuntimeOptionsResponse());
    },
    installDependencies(call) {
        // Dependencies are installed by `npm ci` in this repository's scripts, not by the CLI.
        call.end();
    },
    cancel(call, cb) {
        cb(null, new emptyproto.Empty());
    },
    run(call, cb) {
        const req = call.request;
        const program = programPath(req);
        const programDir = fs.existsSync(program) && fs.statSync(program).isDirectory() ? program : path.dirname(program);
        let runner;
        try {
            runner = require.resolve("@pulumi/pulumi/cmd/run", { paths: [programDir, req.getPwd() || programDir] });
        } catch (e) {
            const r = new langproto.RunResponse();
            r.setError(`cannot find @pulumi/pulumi from ${programDir}: run npm install there`);
            return cb(null, r);
        }
        const info = req.getInfo && req.getInfo();
        // the program gets the orphan watchdog too (its parent is this host; it watches the CLI's monitor address)
        const args = ["--require", path.join(__dirname, "orphan-preload.js"), runner, `--monitor=${req.getMonitorAddress()}`, `--project=${req.getProject()}`,
            `--stack=${req.getStack()}`, `--pwd=${req.getPwd() || programDir}`];
        if (engineAddress) args.push(`--engine=${engineAddress}`);
        if (req.getOrganization()) args.push(`--organization=${req.getOrganization()}`);
        if (info && info.getRootDirectory()) args.push(`--root-directory=${info.getRootDirectory()}`);
        if (req.getDryrun()) args.push("--dry-run");
        if (req.getParallel() > 0) args.push(`--parallel=${req.getParallel()}`);
        args.push(program, ...req.getArgsList());
        const config = {};
        for (const [k, v] of req.getConfigMap().entries()) config[k] = v;
        const env = {
            ...process.env,
            PULUMI_CONFIG: JSON.stringify(config),
            PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(req.getConfigsecretkeysList()),
        };
        const child = spawn(process.execPath, args, { env, stdio: ["ignore", "inherit", "inherit"], cwd: req.getPwd() || programDir });
        programs.add(child);
        child.on("exit", () => programs.delete(child));
        child.on("error", (err) => {
            const r = new langproto.RunResponse();
            r.setError(`could not start the program: ${err.message}`);
            cb(null, r);
        });
        child.on("exit", (code, signal) => {
            const r = new langproto.RunResponse();
            if (code === 32) r.setBail(true);
            else if (code !== 0) r.setError(signal ? `program killed by ${signal}` : `program exited with code ${code}`);
            cb(null, r);
        });
    },
};

function stopAll(code) {
    stopPrograms();
    process.exit(code);
}
process.on("SIGTERM", () => stopAll(0));
process.on("SIGINT", () => stopAll(0));

const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
const service = langrpc.LanguageRuntimeService;
const handlers = {};
for (const name of Object.keys(service)) {
    const method = service[name].originalName || name;
    const fn = impl[method] || impl[name];
    handlers[name] = fn || ((call, cb) => cb({ code: grpc.status.UNIMPLEMENTED, message: `${name} is not implemented` }));
}
server.addService(service, handlers);
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
        console.error(`language host: ${err.message}`);
        process.exit(1);
    }
    process.stdout.write(`${port}\n`);
});
