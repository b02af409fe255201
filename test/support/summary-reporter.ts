/**
 * Prints the plain closing line CI reads, `N passed, N failed, N skipped`, alone on a line,
 * after vitest's own summary (vitest's closing line is not one CI recognises). Errors vitest caught
 * outside any test (an unhandled rejection) fail the run with every test passed: a line before it
 * says so, so that the exit status is not a mystery.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown> = []): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      if (mod.state() === 'failed' && [...mod.children.allTests()].length === 0) failed++;
    }
    if (unhandledErrors.length > 0) {
      process.stdout.write(
        `\nsealgate: ${unhandledErrors.length} unhandled error(s) outside any test (above): the run fails\n`,
      );
    }
    process.stdout.write(`\nsealgate: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
