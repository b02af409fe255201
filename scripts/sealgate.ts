/** Entry point of `npm run --silent sealgate -- <command>`. */
import { runCli } from '../src/cli/main.js';

try {
  const result = await runCli(process.argv.slice(2));
  if (result.stdout) process.stdout.write(result.stdout);
  if (result.stderr) process.stderr.write(result.stderr);
  process.exitCode = result.exitCode;
} catch (e) {
  process.stderr.write(
    `sealgate: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exitCode = 2;
}
