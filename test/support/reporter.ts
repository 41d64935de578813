// Mocha reporter: the spec reporter's output, plus the counts written to $TEST_COUNTS_FILE so scripts/test.sh can
// print one closing line over all suites (mocha's own summary is not what CI reads).
import * as fs from "fs";
import Mocha from "mocha";

class CountingReporter extends Mocha.reporters.Spec {
    constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
        super(runner, options);
        let passed = 0;
        let failed = 0;
        let skipped = 0;
        runner.on("pass", () => passed++);
        runner.on("fail", () => failed++);
        runner.on("pending", () => skipped++);
        runner.once("end", () => {
            const file = process.env.TEST_COUNTS_FILE;
            if (file) fs.writeFileSync(file, JSON.stringify({ passed, failed, skipped }));
        });
    }
}

export = CountingReporter;
