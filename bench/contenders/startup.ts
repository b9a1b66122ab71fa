/**
 * Time to ready of the real pi (`node_modules/.bin/pi`, offline, against the bundled fake LLM):
 * `client.start()` vs a raw spawn that writes `get_state` at once and waits for its reply. Same
 * argv and environment (from `startFakePiEnv().config`, `approve: 'none'`). One warm-up each, then
 * `runs` interleaved pairs, alternating who goes first; each pair is followed by a `client.start()`
 * with the default approvals (which loads pidriver's approval extension: another argv, for
 * information). `node startup.mjs <runs>`.
 */
import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PiClient } from '../../src/session/PiClient.js';
import { startFakePiEnv } from '../../src/testing/fakePiEnv.js';
import { report, type StartupResult } from './measure.js';

async function startup(runs: number): Promise<StartupResult> {
  const env = await startFakePiEnv();
  try {
    const client = new PiClient({ config: env.config });
    const cli = realpathSync(resolve('node_modules/.bin/pi'));
    const argv = env.config.toArgv().slice(1);
    const childEnv = env.config.toEnv(process.env);

    const viaPidriver = async (approve: 'none' | undefined = 'none'): Promise<number> => {
      const started = performance.now();
      const session = await client.start({ cwd: env.cwd, ...(approve ? { approve } : {}) });
      const elapsed = performance.now() - started;
      await session.close();
      return elapsed;
    };
    const raw = async (): Promise<number> => {
      const started = performance.now();
      const child = spawn(process.execPath, [cli, ...argv], { cwd: env.cwd, env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
      child.stdin.write('{"id":"s0","type":"get_state"}\n');
      let buffered = '';
      await new Promise<void>((resolveReady, reject) => {
        child.once('exit', (code) => reject(new Error(`pi exited with ${code}`)));
        child.stdout.on('data', (chunk: Buffer) => {
          buffered += chunk.toString('utf8');
          if (buffered.includes('"id":"s0"')) resolveReady();
        });
      });
      const elapsed = performance.now() - started;
      child.removeAllListeners('exit');
      const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
      child.stdin.end();
      await exited;
      return elapsed;
    };

    // One warm-up of each (disk cache), then interleaved, alternating who goes first.
    await raw();
    await viaPidriver();
    await viaPidriver(undefined);
    const result: StartupResult = { contender: 'startup', order: [], pidriverMs: [], rawMs: [], defaultApprovalsMs: [] };
    for (let index = 0; index < runs; index++) {
      const pidriverFirst = index % 2 === 1;
      result.order.push(pidriverFirst ? 'pidriver,raw' : 'raw,pidriver');
      if (pidriverFirst) result.pidriverMs.push(await viaPidriver());
      result.rawMs.push(await raw());
      if (!pidriverFirst) result.pidriverMs.push(await viaPidriver());
      // Not the same argv as raw: the default approvals add `-e <pidriver's approval extension>`.
      result.defaultApprovalsMs.push(await viaPidriver(undefined));
    }
    return result;
  } finally {
    await env.close();
  }
}

report(startup(Number(process.argv[2] ?? 7)));
