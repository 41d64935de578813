// The end-to-end tests drive the real CLI through the same runner as the demo.
export * from "../../scripts/lib/pulumiCli";
