/**
 * Scale. `node scale.mjs manager [sessions]`: that many fake pi processes
 * (bench/fixtures/idle-pi.sh, a shell) in one `PiSessionManager`: the host's memory per session,
 * the reaper's CPU per tick while they idle, `stopAll()` time. `node scale.mjs real [sessions]`:
 * that many real pi processes (0.73.1, the fake LLM in another process) streaming a reply at
 * once: the host's share of the CPU.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PiSessionManager } from '../../src/manager/PiSessionManager.js';
import { PiClient } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import { fakeAgentConfig } from '../../src/testing/fakeAgentDir.js';
import { report, statusMB } from './measure.js';

export interface ManagerScaleResult {
  readonly contender: 'scale-manager';
  readonly sessions: number;
  readonly createMs: number;
  readonly rssBeforeMB: number;
  readonly rssAfterMB: number;
  readonly heapBeforeMB: number;
  readonly heapAfterMB: number;
  readonly reapIntervalMs: number;
  readonly idleTicks: number;
  /** Host CPU while the sessions idled, per reaper tick. */
  readonly cpuPerTickMs: number;
  readonly stopAllMs: number;
  readonly stopped: number;
}

export interface RealScaleResult {
  readonly contender: 'scale-real';
  readonly sessions: number;
  readonly deltasEach: number;
  readonly events: number;
  readonly wallMs: number;
  /** This process (pidriver and its sessions). */
  readonly hostCpuMs: number;
  /** The pi processes. */
  readonly piCpuMs: number;
  /** The fake LLM's process. */
  readonly llmCpuMs: number;
}

const sleep = (ms: number) => new Promise<void>((resolveSleep) => setTimeout(resolveSleep, ms));
const mb = (bytes: number) => bytes / 1024 / 1024;

/** utime + stime of a process in ms (Linux, USER_HZ 100). */
function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

async function managerScale(count: number): Promise<ManagerScaleResult> {
  const reapIntervalMs = 100;
  const client = new PiClient({ config: { binary: resolve('bench/fixtures/idle-pi.sh'), dialect: 'pi-0.73' } });
  const manager = new PiSessionManager<PiSession>({ factory: (options) => client.start(options), idleTimeoutMs: 3_600_000, reapIntervalMs });
  const cwd = mkdtempSync(join(tmpdir(), 'bench-scale-'));
  // Warm the code paths on one session, so the figures are per session, not per module loaded.
  await (await client.start({ cwd, approve: 'none' })).close();
  global.gc?.();
  const rssBeforeMB = statusMB('VmRSS');
  const heapBeforeMB = mb(process.memoryUsage().heapUsed);
  const started = performance.now();
  for (let batch = 0; batch < count; batch += 20) {
    await Promise.all(Array.from({ length: Math.min(20, count - batch) }, () => manager.create({ cwd, approve: 'none' })));
  }
  const createMs = performance.now() - started;
  global.gc?.();
  const rssAfterMB = statusMB('VmRSS');
  const heapAfterMB = mb(process.memoryUsage().heapUsed);
  // Idle: the reaper's ticks are all that runs.
  const idleTicks = 20;
  const cpu = process.cpuUsage();
  await sleep(idleTicks * reapIntervalMs);
  const used = process.cpuUsage(cpu);
  const stopStarted = performance.now();
  const results = await manager.stopAll();
  const stopAllMs = performance.now() - stopStarted;
  await manager[Symbol.asyncDispose]();
  return {
    contender: 'scale-manager',
    sessions: count,
    createMs,
    rssBeforeMB,
    rssAfterMB,
    heapBeforeMB,
    heapAfterMB,
    reapIntervalMs,
    idleTicks,
    cpuPerTickMs: (used.user + used.system) / 1000 / idleTicks,
    stopAllMs,
    stopped: results.filter((result) => result.status === 'closed').length,
  };
}

async function realScale(count: number): Promise<RealScaleResult> {
  const deltasEach = 1_000;
  // The fake LLM runs in its own process, so its CPU is not the host's.
  const llm = spawn(process.execPath, [resolve('node_modules/.cache/pidriver-bench/llm.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolveUrl) => {
    let text = '';
    llm.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const newline = text.indexOf('\n');
      if (newline >= 0) resolveUrl(text.slice(0, newline));
    });
  });
  try {
    const root = mkdtempSync(join(tmpdir(), 'bench-real-'));
    const config = await fakeAgentConfig({ baseUrl: url, dir: join(root, 'agent'), config: { extraEnv: { HOME: root } } });
    const client = new PiClient({ config });
    const sessions = await Promise.all(Array.from({ length: count }, () => client.start({ cwd: root, approve: 'none' })));
    try {
      const pids = sessions.map((session) => session.pid as number);
      const piBefore = pids.reduce((sum, pid) => sum + processCpuMs(pid), 0);
      const llmBefore = processCpuMs(llm.pid as number);
      let events = 0;
      for (const session of sessions) session.events$.subscribe({ next: () => events++, error: () => undefined });
      const cpu = process.cpuUsage();
      const started = performance.now();
      await Promise.all(sessions.map((session) => session.prompt(`scenario:long:${deltasEach}`)));
      const wallMs = performance.now() - started;
      const used = process.cpuUsage(cpu);
      return {
        contender: 'scale-real',
        sessions: count,
        deltasEach,
        events,
        wallMs,
        hostCpuMs: (used.user + used.system) / 1000,
        piCpuMs: pids.reduce((sum, pid) => sum + processCpuMs(pid), 0) - piBefore,
        llmCpuMs: processCpuMs(llm.pid as number) - llmBefore,
      };
    } finally {
      await Promise.all(sessions.map((session) => session.close()));
    }
  } finally {
    llm.kill();
  }
}

const [mode = 'manager', sessions] = process.argv.slice(2);
report(mode === 'real' ? realScale(Number(sessions ?? 20)) : managerScale(Number(sessions ?? 200)));
