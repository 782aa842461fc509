// Types for scripts/format.mjs.
export declare function format(fileName: string, text: string): string;
