// The dynamic-provider host the Pulumi CLI starts (`pulumi-resource-pulumi-nodejs` in .tools/bin links the shell
// wrapper next to this file), with the orphan watchdog running from the first instant.
//
// Why: Pulumi's own `pulumi-resource-pulumi-nodejs` script runs `@pulumi/pulumi/cmd/dynamic-provider` under a shell,
// and nothing in that host notices that the CLI died. Our provider code starts a watchdog when it is first loaded
// (the first check), so a CLI killed in the second or so between starting the host and its first RPC left the host
// serving forever (issue 13: one was still alive 107 s after a SIGKILL). Here the watchdog
// (dist/provider/orphanWatchdog.js) starts before anything else is loaded, watching the parent (the shell wrapper
// `exec`s node, so the parent is the CLI itself) and the engine address; the provider code later adds its token
// revocation to the same watchdog.
//
// The host itself is Pulumi's, resolved from the project like the official script does (`require.resolve` from the
// working directory, which the CLI sets to the program's directory), falling back to this repository's copy.
"use strict";
const path = require("path");

try {
    const wd = require(path.join(__dirname, "..", "..", "dist", "provider", "orphanWatchdog.js"));
    wd.startOrphanWatchdog({
        // the engine address: the first host:port argument (the CLI puts its -v/--logtostderr flags first when verbose)
        address: wd.addressFromArgs(process.argv.slice(2)) || "",
        watchParent: true,
        label: "dynamic-provider host",
    });
} catch (e) {
    process.stderr.write(`dynamic-provider host: no orphan watchdog (${e && e.message}); run scripts/toolchain.sh\n`);
}

let host;
try {
    host = require.resolve("@pulumi/pulumi/cmd/dynamic-provider", { paths: [process.cwd()] });
} catch {
    host = require.resolve("@pulumi/pulumi/cmd/dynamic-provider", { paths: [__dirname] });
}
require(host);
