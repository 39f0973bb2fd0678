// Types for scripts/build.mjs (plain JavaScript so that it runs before anything is compiled).
export declare const root: string;
export declare const buildStamp: string;
export declare const buildInputs: string[];
export declare function build(): number;
export declare function newestMtime(paths: string[]): number;
export declare function buildIsCurrent(): boolean;
