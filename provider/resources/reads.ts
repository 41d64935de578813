// Moved to provider/operations/reads.ts; this alias keeps provider/plan/compute.ts building until it imports
// provider/operations/reads itself (then delete this file). New code imports provider/operations/reads.
export * from "../operations/reads";
