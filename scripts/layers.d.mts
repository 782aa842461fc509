// Types for scripts/layers.mjs (plain JavaScript, so that node runs it without a build step).
export interface Layer {
  name: string;
  match: (file: string) => boolean;
  job: string;
}
export declare const LAYERS: Layer[];
export declare function layerOf(file: string): number;
export declare function sourceFiles(root: string, dir?: string): string[];
export declare function importGraph(root: string): Map<string, string[]>;
export declare function upwardImports(graph: Map<string, string[]>): Array<[string, string]>;
export declare function importCycles(graph: Map<string, string[]>): string[][];
