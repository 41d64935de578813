// The README as a test plan: a section's text and its fenced code blocks, each with the caption written just above
// it (e.g. "`index.ts` (the names are ...):"), so that a test runs what the README tells users to run, literally.
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "./pulumi";

export interface CodeBlock {
    /** The fence's info string: `bash`, `ts`, `yaml`, ... */
    lang: string;
    /** The block's text, ending with a newline. */
    code: string;
    /** The last non-empty line of text before the fence (the caption), "" when none. */
    caption: string;
    /** 1-based line number of the opening fence in the README. */
    line: number;
}

/** The text of the `## title` section of README.md (up to the next `## ` heading), with its starting line. */
export function readmeSection(title: string, file = path.join(ROOT, "README.md")): { text: string; line: number } {
    const lines = fs.readFileSync(file, "utf8").split("\n");
    const start = lines.findIndex((l) => l.trim() === `## ${title}`);
    if (start < 0) throw new Error(`README.md has no section "## ${title}"`);
    let end = start + 1;
    while (end < lines.length && !/^## /.test(lines[end])) end++;
    return { text: lines.slice(start, end).join("\n"), line: start + 1 };
}

/** Every fenced (```) code block of a markdown text, in order. */
export function codeBlocks(text: string, firstLine = 1): CodeBlock[] {
    const lines = text.split("\n");
    const out: CodeBlock[] = [];
    let caption = "";
    for (let i = 0; i < lines.length; i++) {
        const open = /^```(\S*)\s*$/.exec(lines[i]);
        if (!open) {
            if (lines[i].trim() !== "") caption = lines[i].trim();
            continue;
        }
        const body: string[] = [];
        let j = i + 1;
        while (j < lines.length && !/^```\s*$/.test(lines[j])) body.push(lines[j++]);
        if (j >= lines.length) throw new Error(`unclosed code block at README line ${firstLine + i}`);
        out.push({ lang: open[1], code: body.join("\n") + "\n", caption, line: firstLine + i });
        caption = "";
        i = j;
    }
    return out;
}

/** The block whose caption names `file` in backquotes (e.g. "`Pulumi.yaml`:"); exactly one must exist. */
export function fileBlock(blocks: CodeBlock[], file: string): CodeBlock {
    const found = blocks.filter((b) => b.caption.startsWith(`\`${file}\``));
    if (found.length !== 1) throw new Error(`expected one code block captioned \`${file}\`, found ${found.length}`);
    return found[0];
}

/** The commands of the shell blocks, one per line, without comments and blank lines. */
export function shellCommands(blocks: CodeBlock[]): Array<{ command: string; line: number }> {
    const out: Array<{ command: string; line: number }> = [];
    for (const b of blocks.filter((x) => x.lang === "bash" || x.lang === "sh")) {
        b.code.split("\n").forEach((raw, k) => {
            const command = raw.replace(/(^|\s)#.*$/, "").trim();
            if (command) out.push({ command, line: b.line + 1 + k });
        });
    }
    return out;
}

/** Splits a README command line into words (no quoting is used in the commands this is for). */
export function words(command: string): string[] {
    if (/["'`$|;&<>\\]/.test(command)) throw new Error(`command needs a shell, not supported here: ${command}`);
    return command.split(/\s+/).filter(Boolean);
}
