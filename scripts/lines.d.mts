// Types for scripts/lines.mjs.
export declare function codeLines(text: string): number;
export interface Budget {
  name: string;
  files: (file: string) => boolean;
  budget: number;
}
export declare const BUDGETS: Budget[];
export declare function count(): Array<Omit<Budget, "files"> & { files: number; lines: number }>;
