/** What a CLI command produces; `main` writes it out, so commands are testable in-process. */
export interface CommandResult {
  stdout: string;
  stderr?: string;
  exitCode: 0 | 1 | 2;
}
