export declare const UI_NODE_FLAGS: string[];
