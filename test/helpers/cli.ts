import { spawn } from 'node:child_process';
import { testEnv } from './app.js';
import { nodeArgs } from './entry.js';

export type CliResult = { code: number | null; stdout: string; stderr: string };

/** Runs `tenantgraph <args>` as a separate process with the test environment (plus `env`), feeding `stdin`. */
export function runCli(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, nodeArgs('src/cli/main.ts', ...args), {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...testEnv(), LOG_LEVEL: 'warn', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}
