// Run the built CLI as a user would, inside a namespace, with its own state dir.
import { spawn } from 'node:child_process';
import { repoPath } from './paths.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], opts: { netns?: string; stateDir?: string } = {}): Promise<CliResult> {
  const argv = [repoPath('dist', 'src', 'cli', 'main.js')];
  if (opts.netns) argv.push('--netns', opts.netns);
  if (opts.stateDir) argv.push('--state-dir', opts.stateDir);
  argv.push(...args);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { cwd: repoPath() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}
