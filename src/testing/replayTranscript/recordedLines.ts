/**
 * What a replay reads in the recorded lines of a transcript: commands, run boundaries, the
 * `get_state` data, the `spawn` note's dialect and model.
 */
import { basename } from 'node:path';
import { DIALECTS, type Dialect } from '../../protocol/dialects.js';
import type { SentCommand } from '../FakeTransport.js';
import type { TranscriptRecord } from '../recordTranscript.js';

/** The dialect a transcript was recorded with (see {@link ReplayTransport.dialect}). */
export interface RecordedDialect {
  readonly dialect: Dialect;
  readonly version?: string;
}

const MINIMAL_STATE: Readonly<Record<string, unknown>> = Object.freeze({ isStreaming: false, isCompacting: false });

export type Marker = 'start' | 'end' | 'prompt-ok';

/** Run boundaries in a recorded stdout line. */
export function markerOf(line: string): Marker | undefined {
  const start = line.includes('"agent_start"');
  const end = line.includes('"agent_end"');
  const prompt = line.includes('"prompt"') && line.includes('"response"');
  if (!start && !end && !prompt) return undefined;
  const type = asObject(line)?.['type'];
  if (type === 'agent_start') return 'start';
  if (type === 'agent_end') return 'end';
  if (type === 'response' && prompt) {
    const frame = asObject(line);
    if (frame?.['command'] === 'prompt' && frame['success'] === true) return 'prompt-ok';
  }
  return undefined;
}

/** The dialect named by the `spawn` note (see {@link ReplayTransport.dialect}). */
export function spawnDialect(records: readonly TranscriptRecord[]): RecordedDialect | undefined {
  const spawn = records.find((record) => record.dir === 'note' && record.note.startsWith('spawn'));
  if (spawn?.dir !== 'note') return undefined;
  const dialect = (spawn as Record<string, unknown>)['dialect'];
  const version = (spawn as Record<string, unknown>)['version'];
  if (typeof dialect === 'string' && (DIALECTS as readonly string[]).includes(dialect)) {
    return Object.freeze({ dialect: dialect as Dialect, ...(typeof version === 'string' ? { version } : {}) });
  }
  const binary = spawn.note.split(/\s+/)[1] ?? '';
  return basename(binary) === 'omp' ? Object.freeze({ dialect: 'omp' as const }) : undefined;
}

/** A minimal idle state, with the model named by the `spawn` note's flags when there is one. */
export function spawnState(records: readonly TranscriptRecord[]): Readonly<Record<string, unknown>> {
  const spawn = records.find((record) => record.dir === 'note' && record.note.startsWith('spawn '));
  if (spawn?.dir !== 'note') return MINIMAL_STATE;
  const argv = spawn.note.split(/\s+/);
  const flag = (name: string): string | undefined => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const model = flag('--model');
  if (model === undefined) return MINIMAL_STATE;
  const slash = model.indexOf('/');
  const provider = flag('--provider') ?? (slash > 0 ? model.slice(0, slash) : undefined);
  if (provider === undefined) return MINIMAL_STATE;
  const id = flag('--provider') === undefined && slash > 0 ? model.slice(slash + 1) : model;
  return Object.freeze({ ...MINIMAL_STATE, model: { provider, id } });
}

export function asObject(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function asCommand(line: string): SentCommand | undefined {
  const value = asObject(line);
  return value && typeof value['type'] === 'string' ? (value as SentCommand) : undefined;
}

export function stateOf(line: string): Readonly<Record<string, unknown>> | undefined {
  if (!line.includes('"get_state"')) return undefined;
  const frame = asObject(line);
  if (!frame || frame['type'] !== 'response' || frame['command'] !== 'get_state' || frame['success'] !== true) return undefined;
  const data = frame['data'];
  return typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
}

export function sameCommand(recorded: SentCommand | undefined, sent: SentCommand): boolean {
  if (!recorded) return false;
  const strip = ({ id: _id, ...rest }: SentCommand): Record<string, unknown> => rest;
  return JSON.stringify(sortKeys(strip(recorded))) === JSON.stringify(sortKeys(strip(sent)));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}
