// Starts a real `covet serve --studio` on a fresh project and a real
// Chromium (Debian's, never a downloaded one) for the end-to-end tests.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const COVET_BIN = process.env.COVET_BIN || join(repo, 'build/bin/covet');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const LOGIN_RE = /http:\/\/127\.0\.0\.1:\d+\/_covet\/login\?code=[A-Za-z0-9_-]+/;

/** Polls fn until it returns a truthy value, for at most ms. */
export async function waitFor(fn, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts covet serve --studio on a new temporary project. */
export async function startServer() {
  if (!existsSync(COVET_BIN)) throw new Error(`${COVET_BIN} not found: run make build (or set COVET_BIN)`);
  const project = join(mkdtempSync(join(tmpdir(), 'covet-e2e-')), 'p');
  const proc = spawn(COVET_BIN, ['serve', '--project', project, '--listen', '127.0.0.1:0', '--studio'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, COVET_ADMIN_TOKEN: '' },
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => (stdout += d));
  proc.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  const login = await waitFor(
    () => {
      if (proc.exitCode !== null) throw new Error(`covet serve exited early:\n${stderr}`);
      return stdout.match(LOGIN_RE)?.[0];
    },
    30_000,
    'the login URL on stdout',
  );
  const runtimeFile = join(project, 'covet_data', 'runtime.json');
  const runtime = await waitFor(() => existsSync(runtimeFile) && JSON.parse(readFileSync(runtimeFile, 'utf8')), 10_000, 'runtime.json');
  return {
    project,
    login,
    runtimeFile,
    url: runtime.url,
    token: runtime.adminToken,
    stderr: () => stderr,
    /** SIGTERM, then wait for a clean exit (bounded). */
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('covet serve ignored SIGTERM for 20 s')), 20_000));
      return Promise.race([exited, timeout]);
    },
    kill() {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
