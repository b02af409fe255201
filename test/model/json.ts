/** Parsed JSON in test assertions: any shape — the assertions themselves check it. */
// biome-ignore lint/suspicious/noExplicitAny: assertions read arbitrary parsed JSON
export type Json = any;
