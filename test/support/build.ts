import { execFileSync } from 'node:child_process';
import path from 'node:path';

// Vitest's globalSetup: the tests run the `kyso` command line as users do, from the built output
// (dist/cli/run.js), so it is built once per test run. Incremental: an unchanged tree costs little.
const ROOT = path.resolve(import.meta.dirname, '../..');

export default function build(): void {
  execFileSync(
    process.execPath,
    [
      path.join(ROOT, 'node_modules/typescript/bin/tsc'),
      '-p',
      'tsconfig.build.json',
      '--incremental',
      '--tsBuildInfoFile',
      'dist/.tsbuildinfo',
    ],
    { cwd: ROOT, stdio: 'inherit' },
  );
}
