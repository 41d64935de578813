// Moved to provider/operations/permissions.ts; this alias keeps kinds written against the old path building.
export * from "../operations/permissions";
