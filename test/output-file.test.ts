import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomicallyAsync as writeAtomically } from '../src/cli/atomic-file.js';
import { ROOT, tempDir } from './support/env.js';

// How the CLI writes a signed PDF or a report: never through a planted file, never half-written.

describe('writeAtomically', () => {
  let tmp: ReturnType<typeof tempDir>;
  const at = (name: string) => path.join(tmp.dir, name);
  beforeAll(() => {
    tmp = tempDir('kyso-output-file-');
  });
  afterAll(() => tmp.remove());

  it('writes the parts in order and leaves only the output in the directory', async () => {
    await writeAtomically(at('a.pdf'), [Buffer.from('%PDF-'), Buffer.from('1.7\n')]);
    expect(readFileSync(at('a.pdf'), 'latin1')).toBe('%PDF-1.7\n');
    expect(readdirSync(tmp.dir)).toEqual(['a.pdf']);
  });

  it('never writes through a symlink planted where the temporary file of the pid would be', async () => {
    writeFileSync(at('victim'), 'keep me');
    // The old temporary name was predictable: OUT.PID.tmp.
    symlinkSync(at('victim'), at(`b.pdf.${process.pid}.tmp`));
    await writeAtomically(at('b.pdf'), [Buffer.from('signed')]);
    expect(readFileSync(at('victim'), 'latin1')).toBe('keep me');
    expect(readFileSync(at('b.pdf'), 'latin1')).toBe('signed');
  });

  it('a failure while writing leaves neither the output nor a temporary file', async () => {
    const dir = tempDir('kyso-output-fail-');
    function* failing(): Iterable<Uint8Array> {
      yield Buffer.from('%PDF-1.7\n');
      throw new Error('the input went away');
    }
    await expect(writeAtomically(path.join(dir.dir, 'c.pdf'), failing())).rejects.toThrow(
      /cannot write .*c\.pdf/,
    );
    expect(readdirSync(dir.dir)).toEqual([]);
    dir.remove();
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    it(`${signal} while writing removes the temporary file and ends the process by that signal`, async () => {
      const dir = tempDir('kyso-output-signal-');
      // A writer whose second part never comes: the signal arrives with the temporary file open.
      const script = `
        import { writeFileAtomicallyAsync as writeAtomically } from ${JSON.stringify(path.join(ROOT, 'src/cli/atomic-file.ts'))};
        async function* parts() {
          yield Buffer.from('%PDF-1.7\\n');
          process.stdout.write('writing\\n');
          await new Promise((resolve) => setTimeout(resolve, 60_000));
          yield Buffer.from('never');
        }
        await writeAtomically(${JSON.stringify(path.join(dir.dir, 'd.pdf'))}, parts());
      `;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve) => child.stdout.on('data', () => resolve()));
      const [temp] = readdirSync(dir.dir);
      expect(temp).toMatch(/^\.d\.pdf\.[0-9a-f]{16}\.tmp$/);
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('exit', (_code, s) => resolve(s)),
      );
      child.kill(signal);
      expect(await exited).toBe(signal);
      expect(existsSync(path.join(dir.dir, temp))).toBe(false);
      expect(readdirSync(dir.dir)).toEqual([]);
      dir.remove();
    });
});
