// Preloaded (`node --require`) into the program the language host runs (`@pulumi/pulumi/cmd/run`): the orphan
// watchdog of dist/provider/orphanWatchdog.js, started before the program loads anything. The program's parent is
// the language host; the address watched is the CLI's resource monitor (`--monitor=`) or engine (`--engine=`).
"use strict";
const path = require("path");
try {
    const wd = require(path.join(__dirname, "..", "..", "dist", "provider", "orphanWatchdog.js"));
    const address = wd.addressFromArgs(process.argv.slice(2));
    if (address) wd.startOrphanWatchdog({ address, watchParent: true, label: "pulumi program", onOrphaned: () => undefined });
} catch (e) {
    process.stderr.write(`pulumi program: no orphan watchdog (${e && e.message})\n`);
}
