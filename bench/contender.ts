/**
 * One benchmark contender, run in its own process so its CPU time and peak RSS are its own.
 * `bench/run.ts` bundles this file with esbuild (dependencies stay external, as in the published
 * package) and runs `node contender.mjs <name> <shape>`; the last stdout line is a JSON result.
 *
 *   floor     spawn the fake pi, split stdout on `\n`, `JSON.parse` each line, nothing else
 *   rpcclient pi's own `RpcClient` (`onEvent` until `agent_end`)
 *   pidriver  `PiClient` → `session.events$` until `agent_end`
 *   startup   time to ready of the real pi: `client.start()` vs a raw spawn + `get_state`
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
// Each contender imports only what it uses (dynamic imports), so one's modules don't inflate another's RSS.

export interface StreamInfo {
  readonly shape: string;
  readonly frames: number;
  readonly bytes: number;
  readonly maxLine: number;
  readonly textLength: number;
}

export interface StreamResult {
  readonly contender: string;
  readonly shape: string;
  readonly stream: StreamInfo;
  /** Events the contender delivered to its consumer (pidriver's are its own typed events). */
  readonly delivered: number;
  /** From sending `prompt` to receiving `agent_end`. */
  readonly wallMs: number;
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
  /** RSS just before the prompt was sent. */
  readonly rssBeforeMB: number;
  /** Peak RSS of the whole process (VmHWM). */
  readonly peakRssMB: number;
}

export interface StartupResult {
  readonly contender: 'startup';
  readonly order: string[];
  readonly pidriverMs: number[];
  readonly rawMs: number[];
}

const STREAM_PI = resolve(process.env['BENCH_STREAM_PI'] ?? 'bench/fixtures/stream-pi.mjs');

function status(field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** Measures one prompt: `send` sends it, `done` settles at agent_end. */
async function measure(
  contender: string,
  shape: string,
  stream: StreamInfo,
  run: () => { done: Promise<void>; delivered: () => number },
): Promise<StreamResult> {
  const rssBeforeMB = status('VmRSS');
  const cpu = process.cpuUsage();
  const started = performance.now();
  const { done, delivered } = run();
  await done;
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return {
    contender,
    shape,
    stream,
    delivered: delivered(),
    wallMs,
    cpuUserMs: used.user / 1000,
    cpuSystemMs: used.system / 1000,
    rssBeforeMB,
    peakRssMB: status('VmHWM'),
  };
}

// -----------------------------------------------------------------------------------------------

async function floor(shape: string): Promise<StreamResult> {
  const child = spawn(process.execPath, [STREAM_PI, '--mode', 'rpc'], {
    env: { ...process.env, STREAM_PI_SHAPE: shape },
    stdio: ['pipe', 'pipe', 'inherit'],
  }) as unknown as ChildProcessWithoutNullStreams;
  let onLine: (value: { type?: string; data?: { stream?: StreamInfo } }) => void = () => undefined;
  let parts: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline < 0) {
        if (start < chunk.length) parts.push(chunk.subarray(start));
        return;
      }
      let line = chunk.subarray(start, newline);
      if (parts.length > 0) {
        parts.push(line);
        line = Buffer.concat(parts);
        parts = [];
      }
      onLine(JSON.parse(line.toString('utf8')) as never);
      start = newline + 1;
    }
  });
  const stream = await new Promise<StreamInfo>((resolveState) => {
    onLine = (value) => {
      if (value.type === 'response' && value.data?.stream) resolveState(value.data.stream);
    };
    child.stdin.write('{"id":"s0","type":"get_state"}\n');
  });
  const result = await measure('floor', shape, stream, () => {
    let delivered = 0;
    const done = new Promise<void>((resolveDone) => {
      onLine = (value) => {
        delivered++;
        if (value.type === 'agent_end') resolveDone();
      };
    });
    child.stdin.write('{"id":"p1","type":"prompt","message":"go"}\n');
    return { done, delivered: () => delivered };
  });
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
  child.stdin.end();
  await exited;
  return result;
}

async function rpcclient(shape: string): Promise<StreamResult> {
  const { RpcClient } = await import('@mariozechner/pi-coding-agent');
  const client = new RpcClient({ cliPath: STREAM_PI, env: { STREAM_PI_SHAPE: shape }, cwd: mkdtempSync(join(tmpdir(), 'bench-')) });
  await client.start();
  const state = (await client.getState()) as unknown as { stream: StreamInfo };
  const result = await measure('rpcclient', shape, state.stream, () => {
    let delivered = 0;
    let unsubscribe: () => void = () => undefined;
    const done = new Promise<void>((resolveDone) => {
      unsubscribe = client.onEvent((event) => {
        delivered++;
        if (event.type === 'agent_end') resolveDone();
      });
    });
    void client.prompt('go');
    return { done: done.finally(unsubscribe), delivered: () => delivered };
  });
  await client.stop();
  return result;
}

async function pidriver(shape: string): Promise<StreamResult> {
  const { PiClient } = await import('../src/session/PiClient.js');
  const client = new PiClient({
    config: { binary: STREAM_PI, extraEnv: { STREAM_PI_SHAPE: shape }, startTimeoutMs: 120_000, requestTimeoutMs: 120_000 },
  });
  const replayEvents = process.env['BENCH_REPLAY_EVENTS'];
  const session = await client.start({
    cwd: mkdtempSync(join(tmpdir(), 'bench-')),
    approve: 'none',
    ...(replayEvents ? { replay: { maxEvents: Number(replayEvents) } } : {}),
  });
  const state = (await session.getState()) as unknown as { stream: StreamInfo };
  const result = await measure('pidriver', shape, state.stream, () => {
    let delivered = 0;
    const done = new Promise<void>((resolveDone, reject) => {
      const subscription = session.events$.subscribe({
        next: (event) => {
          delivered++;
          if (event.type === 'agent_end') {
            subscription.unsubscribe();
            resolveDone();
          }
        },
        error: reject,
      });
    });
    void session.prompt('go');
    return { done, delivered: () => delivered };
  });
  await session.close();
  return result;
}

// -----------------------------------------------------------------------------------------------

async function startup(runs: number): Promise<StartupResult> {
  const { PiClient } = await import('../src/session/PiClient.js');
  const { startFakePiEnv } = await import('../src/testing/fakePiEnv.js');
  const env = await startFakePiEnv();
  try {
    const client = new PiClient({ config: env.config });
    const cli = realpathSync(resolve('node_modules/.bin/pi'));
    const argv = env.config.toArgv().slice(1);
    const childEnv = env.config.toEnv(process.env);

    const viaPidriver = async (): Promise<number> => {
      const started = performance.now();
      const session = await client.start({ cwd: env.cwd, approve: 'none' });
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

    // One warm-up of each (disk cache, V8 code cache), then interleaved, alternating who goes first.
    await raw();
    await viaPidriver();
    const result: StartupResult = { contender: 'startup', order: [], pidriverMs: [], rawMs: [] };
    for (let index = 0; index < runs; index++) {
      const pidriverFirst = index % 2 === 1;
      result.order.push(pidriverFirst ? 'pidriver,raw' : 'raw,pidriver');
      if (pidriverFirst) result.pidriverMs.push(await viaPidriver());
      result.rawMs.push(await raw());
      if (!pidriverFirst) result.pidriverMs.push(await viaPidriver());
    }
    return result;
  } finally {
    await env.close();
  }
}

// -----------------------------------------------------------------------------------------------

const [name, arg] = process.argv.slice(2);
const contenders: Record<string, (arg: string) => Promise<StreamResult | StartupResult>> = {
  floor,
  rpcclient,
  pidriver,
  startup: (runs) => startup(Number(runs)),
};
const contender = contenders[name ?? ''];
if (!contender) {
  process.stderr.write(`usage: contender.mjs <${Object.keys(contenders).join('|')}> <shape|runs>\n`);
  process.exit(2);
}
const result = await contender(arg ?? '');
process.stdout.write(`${JSON.stringify(result)}\n`);
