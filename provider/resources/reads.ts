// Moved to provider/operations/reads.ts; this alias keeps provider/plan/ (and kinds written against the old path)
// building. New code imports provider/operations/reads.
export * from "../operations/reads";
