/** Entry point of `npm run --silent sealgate -- <command>`. */
import { runCli } from '../src/cli/main.js';
import { printable } from '../src/cli/printable.js';

try {
  const result = await runCli(process.argv.slice(2));
  if (result.stdout) process.stdout.write(result.stdout);
  if (result.stderr) process.stderr.write(result.stderr);
  process.exitCode = result.exitCode;
} catch (e) {
  // The message may quote a hostile file or endpoint: no control characters, line by line.
  const text = e instanceof Error ? (e.stack ?? e.message) : String(e);
  process.stderr.write(`sealgate: internal error: ${text.split('\n').map(printable).join('\n')}\n`);
  process.exitCode = 2;
}
