/**
 * A CSE in a process of its own (src/main.ts with tsx, HTTP on 127.0.0.1 port 0), for what needs a real process:
 * kill -9, SIGTERM, several CSE processes on one database.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface CseProcess {
  child: ChildProcess;
  url: string;
  startLine: Record<string, unknown>;
  /** resolves with the exit code (or the signal) */
  exited: Promise<number | string>;
  /** SIGTERM, and the exit code */
  stop(): Promise<number | string>;
  kill9(): Promise<number | string>;
}

/** Starts the CSE with these flags and resolves with its port from the start-up log line. */
export function startCseProcess(args: string[]): Promise<CseProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/main.ts',
        '--http-port',
        '0',
        '--http-host',
        '127.0.0.1',
        '--no-coap',
        '--no-mqtt',
        ...args,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<number | string>((r) => child.once('exit', (code, signal) => r(code ?? signal ?? -1)));
    let out = '';
    let started = false;
    child.stdout!.on('data', (d: Buffer) => {
      if (started) return;
      out += d.toString();
      for (const line of out.split('\n')) {
        if (!line.includes('CSE started')) continue;
        started = true;
        const startLine = JSON.parse(line) as Record<string, unknown> & { bindings: { http: number } };
        resolve({
          child,
          url: `http://127.0.0.1:${startLine.bindings.http}`,
          startLine,
          exited,
          stop: () => {
            child.kill('SIGTERM');
            return exited;
          },
          kill9: () => {
            child.kill('SIGKILL');
            return exited;
          },
        });
        return;
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    void exited.then((code) => {
      if (!started) reject(new Error(`CSE exited (${code}): ${out}`));
    });
  });
}
