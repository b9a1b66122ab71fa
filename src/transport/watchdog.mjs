// @ts-check
/**
 * pidriver's watchdog: a tiny plain-Node process that outlives its host for as long as it takes
 * to reap the host's pi trees when the host dies without closing them (Ctrl-C or SIGTERM under
 * Node's default handling, SIGKILL, a crash, an OOM kill). Started by `watchdog.ts`; shipped as
 * `dist/transport/watchdog.js`. Node built-ins only, so it runs from source and from the package.
 *
 * argv: `<marker variable> <marker prefix>`. stdin, from the host, one message a line:
 * - `+<pid> <startTime>`: a pi process group (pi leads it) to kill if the host dies;
 * - `-<pid>`: that pi exited (its pid may be reused: forget it);
 * - `bye`: the host has nothing left to guard; exit without reaping at EOF.
 *
 * EOF on stdin without `bye` means the host is gone, however it ended: its end of the pipe is
 * closed by the kernel. Then SIGKILL every watched group still led by the same process, and every
 * process whose environment holds `<marker variable>=<marker prefix>…` (pi, and what pi's bash
 * tool started detached, even after it was reparented to init), rescanning until nothing is
 * found, and exit. Marker scanning reads `/proc` (Linux); elsewhere only the groups are killed.
 */
import { readdirSync, readFileSync } from 'node:fs';

const [markerName = '', markerPrefix = ''] = process.argv.slice(2);
// An empty prefix would match every pidriver host's processes.
if (markerName === '' || markerPrefix.length < 16) process.exit(2);

/** How often the reaper rescans, and for how long at most. */
const RESCAN_MS = 50;
const REAP_BOUND_MS = 10_000;
/** Consecutive scans that must find nothing before the watchdog trusts that all is gone. */
const QUIET_SCANS = 3;

/** @type {Map<number, string>} watched pi pid → its start time ('' when unknown) */
const watched = new Map();
let bye = false;
let pending = '';

/** @param {number} pid */
function stat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', startTime: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

/** @param {number} pid @param {NodeJS.Signals} signal */
function trySignal(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // gone
  }
}

/** Live (not zombie) processes carrying this host's marker. */
function marked() {
  let entries;
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const entry = Buffer.from(`${markerName}=${markerPrefix}`);
  const afterNul = Buffer.concat([Buffer.from([0]), entry]);
  /** @type {number[]} */
  const found = [];
  for (const name of entries) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) continue;
    let environ;
    try {
      environ = readFileSync(`/proc/${pid}/environ`);
    } catch {
      continue; // gone, or not ours
    }
    if (!(environ.subarray(0, entry.length).equals(entry) || environ.includes(afterNul))) continue;
    const state = stat(pid)?.state;
    if (state !== undefined && state !== 'Z' && state !== 'X') found.push(pid);
  }
  return found;
}

function reap() {
  for (const [pid, startTime] of watched) {
    const now = stat(pid);
    // Still the same process (pid reuse)? Without /proc the start time is unknown: trust the host,
    // which forgets a pi as soon as it exits.
    const same = startTime === '' ? now !== undefined || process.platform !== 'linux' : now?.startTime === startTime;
    if (!same) continue;
    trySignal(-pid, 'SIGKILL');
    trySignal(pid, 'SIGKILL');
  }
  watched.clear();
  const deadline = Date.now() + REAP_BOUND_MS;
  let quiet = 0;
  const scan = () => {
    const found = marked();
    for (const pid of found) {
      trySignal(-pid, 'SIGKILL'); // its group, if it leads one (pi's bash tool detaches commands)
      trySignal(pid, 'SIGKILL');
    }
    quiet = found.length === 0 ? quiet + 1 : 0;
    if (quiet >= QUIET_SCANS || Date.now() > deadline) process.exit(0);
    setTimeout(scan, RESCAN_MS);
  };
  scan();
}

/** @param {string} line */
function handle(line) {
  if (line === 'bye') {
    bye = true;
  } else if (line.startsWith('+')) {
    const [pid, startTime = ''] = line.slice(1).split(' ');
    if (Number(pid) > 1) watched.set(Number(pid), startTime);
  } else if (line.startsWith('-')) {
    watched.delete(Number(line.slice(1)));
  }
}

let ended = false;
const onEnd = () => {
  if (ended) return;
  ended = true;
  if (bye) process.exit(0);
  reap();
};
process.stdin.on('data', (chunk) => {
  const lines = (pending + chunk.toString('utf8')).split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) handle(line);
});
process.stdin.on('end', onEnd);
process.stdin.on('close', onEnd);
process.stdin.on('error', onEnd);
