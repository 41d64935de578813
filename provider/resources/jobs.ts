// Moved to provider/operations/wait.ts; this alias keeps kinds written against the old path building.
export * from "../operations/wait";
