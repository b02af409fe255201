/** What a CLI command produces; `main` writes it out, so commands are testable in-process. */
export interface CommandResult {
  stdout: string;
  stderr?: string;
  /**
   * 0 verified against what the user pinned; 1 rejected; 2 usage or unreadable input; 3 not
   * pinned (trust on first use: what was found and the digest to pin, never "VERIFIED").
   */
  exitCode: 0 | 1 | 2 | 3;
}
