/**
 * Process-tree helpers. pi's bash tool starts its commands *detached* (their own process
 * group), and pi 0.73 does not kill them on stdin EOF, so killing pi's process group is not
 * enough to guarantee "no process left behind". Before closing, the transport snapshots pi's
 * descendants and afterwards kills those still alive. Linux reads `/proc`; elsewhere the
 * snapshot is empty and only the process group is killed.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** A process identity that survives pid reuse: pid plus its start time. */
export interface ProcessIdentity {
  readonly pid: number;
  readonly startTime: string;
}

interface StatLine {
  readonly state: string;
  readonly ppid: number;
  readonly startTime: string;
}

function readStat(pid: number): StatLine | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces: parse after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0] ?? '';
    const ppid = Number(fields[1]);
    const startTime = fields[19];
    if (!Number.isInteger(ppid) || startTime === undefined) return undefined;
    return { state, ppid, startTime };
  } catch {
    return undefined;
  }
}

/** The identity of a live (or zombie) process, or `undefined` if there is none (or no `/proc`). */
export function identityOf(pid: number): ProcessIdentity | undefined {
  const stat = readStat(pid);
  return stat && { pid, startTime: stat.startTime };
}

/** All live descendants of `rootPid` (children, grandchildren, …). */
export function descendantsOf(rootPid: number): ProcessIdentity[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const children = new Map<number, ProcessIdentity[]>();
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const stat = readStat(pid);
    if (!stat) continue;
    const siblings = children.get(stat.ppid) ?? [];
    siblings.push({ pid, startTime: stat.startTime });
    children.set(stat.ppid, siblings);
  }
  const result: ProcessIdentity[] = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    const parent = queue.shift() as number;
    for (const child of children.get(parent) ?? []) {
      result.push(child);
      queue.push(child.pid);
    }
  }
  return result;
}

/**
 * Live processes (other than this one) whose environment holds `name=value`. The environment is
 * inherited through `setsid` and survives reparenting, so this finds what pi's bash tool started
 * (detached, in its own session) even after pi itself died and its children went to init, when
 * {@link descendantsOf} no longer can. Only processes of this user are readable; Linux only.
 */
export function processesWithEnv(name: string, value: string): ProcessIdentity[] {
  return processesWithEnvEntry(Buffer.from(`${name}=${value}\0`));
}

/** Like {@link processesWithEnv}, for every value of `name` that starts with `prefix`. */
export function processesWithEnvPrefix(name: string, prefix: string): ProcessIdentity[] {
  return processesWithEnvEntry(Buffer.from(`${name}=${prefix}`));
}

/** Live processes (other than this one) with an environment entry that starts with `entry`. */
function processesWithEnvEntry(entry: Buffer): ProcessIdentity[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const afterNul = Buffer.concat([Buffer.from([0]), entry]);
  const found: ProcessIdentity[] = [];
  for (const dirent of entries) {
    const pid = Number(dirent);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
    let environ: Buffer;
    try {
      environ = readFileSync(`/proc/${pid}/environ`);
    } catch {
      continue; // gone, or not ours
    }
    // The entry starts the environment or follows a NUL (not inside another variable's value).
    if (!(environ.subarray(0, entry.length).equals(entry) || environ.includes(afterNul))) continue;
    const stat = readStat(pid);
    if (stat) found.push({ pid, startTime: stat.startTime });
  }
  return found;
}

/** True if the process is alive and is still the same process (not a reused pid). */
export function isAlive(identity: ProcessIdentity): boolean {
  const stat = readStat(identity.pid);
  return stat !== undefined && stat.startTime === identity.startTime;
}

/** True if the process is alive and not a zombie: it can still run code. */
export function isRunning(identity: ProcessIdentity): boolean {
  const stat = readStat(identity.pid);
  return stat !== undefined && stat.startTime === identity.startTime && stat.state !== 'Z' && stat.state !== 'X';
}

/** SIGKILLs each process (and its process group, if it leads one) that is still alive. */
export function killAll(identities: readonly ProcessIdentity[]): void {
  for (const identity of identities) {
    if (!isAlive(identity)) continue;
    trySignal(-identity.pid, 'SIGKILL');
    trySignal(identity.pid, 'SIGKILL');
  }
}

/** `process.kill` that ignores "no such process". Returns whether the signal was delivered. */
export function trySignal(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}
