/**
 * Dialect detection (package.json beside the binary, `--version`), finding Bun for omp, the
 * capability table, and the protocol-v2 chunk assembler, without a real pi.
 */
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PiConfig } from '../../src/config/PiConfig.js';
import { PiNotFoundError } from '../../src/errors.js';
import { capabilitiesOf, unsupportedCommandHint, versionAtLeast } from '../../src/protocol/dialects.js';
import { RpcChunkAssembler } from '../../src/protocol/RpcChunkAssembler.js';
import { detectPi, dialectFromPackageJson, dialectFromVersion } from '../../src/transport/detectDialect.js';
import { resolveBinary } from '../../src/transport/resolveBinary.js';

let root: string;
/** `<root>/<name>/node_modules/{.bin/<bin> → <pkg>/dist/cli.js, <pkg>/package.json}`, optionally with a `bun` beside. */
async function fakeInstall(name: string, pkg: string, version: string, bin: string, shebang: string, withBun: boolean): Promise<string> {
  const modules = join(root, name, 'node_modules');
  const pkgDir = join(modules, ...pkg.split('/'));
  await mkdir(join(pkgDir, 'dist'), { recursive: true });
  await mkdir(join(modules, '.bin'), { recursive: true });
  await writeFile(join(pkgDir, 'package.json'), JSON.stringify({ name: pkg, version }));
  const cli = join(pkgDir, 'dist', 'cli.js');
  await writeFile(cli, `${shebang}\nconsole.log("${version}");\n`);
  await chmod(cli, 0o755);
  await symlink(cli, join(modules, '.bin', bin));
  if (withBun) {
    await writeFile(join(modules, '.bin', 'bun'), '#!/bin/sh\necho 1.4.5\n');
    await chmod(join(modules, '.bin', 'bun'), 0o755);
  }
  return join(modules, '.bin', bin);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pidriver-detect-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('detectPi', () => {
  it('reads the dialect and version from the package.json beside the binary', async () => {
    const omp = await fakeInstall('omp', '@oh-my-pi/pi-coding-agent', '18.2.3', 'omp', '#!/usr/bin/env bun', true);
    const pi1 = await fakeInstall('pi1', '@earendil-works/pi-coding-agent', '1.5.2', 'pi', '#!/usr/bin/env node', false);
    const pi073 = await fakeInstall('pi073', '@mariozechner/pi-coding-agent', '0.73.1', 'pi', '#!/usr/bin/env node', false);
    const pi080 = await fakeInstall('pi080', '@mariozechner/pi-coding-agent', '0.80.1', 'pi', '#!/usr/bin/env node', false);
    expect(await detectPi(PiConfig.parse({ binary: omp }))).toEqual({ dialect: 'omp', version: '18.2.3', source: 'package.json' });
    expect(await detectPi(PiConfig.parse({ binary: pi1 }))).toEqual({ dialect: 'pi-1', version: '1.5.2', source: 'package.json' });
    expect(await dialectFromPackageJson(pi073)).toBe('pi-0.73');
    expect(await dialectFromPackageJson(pi080)).toBe('pi-1');
  });

  it('lets config.dialect win, keeping the version when the package agrees', async () => {
    const omp = join(root, 'omp', 'node_modules', '.bin', 'omp');
    expect(await detectPi(PiConfig.parse({ binary: omp, dialect: 'omp' }))).toEqual({ dialect: 'omp', version: '18.2.3', source: 'config' });
    expect(await detectPi(PiConfig.parse({ binary: '/nowhere/pi', dialect: 'pi-1' }))).toEqual({ dialect: 'pi-1', version: undefined, source: 'config' });
  });

  it('falls back to --version (stdout or stderr)', async () => {
    const script = join(root, 'bare-pi');
    await writeFile(script, '#!/bin/sh\necho "0.87.1" >&2\n');
    await chmod(script, 0o755);
    expect(await detectPi(PiConfig.parse({ binary: script }))).toEqual({ dialect: 'pi-1', version: '0.87.1', source: '--version' });
    expect(dialectFromVersion('omp/18.2.3\n')).toBe('omp');
    expect(dialectFromVersion('0.73.1')).toBe('pi-0.73');
    expect(dialectFromVersion('nothing')).toBeUndefined();
  });
});

describe('resolveBinary for omp (a Bun script)', () => {
  it('finds the bun installed beside the binary, without PATH', async () => {
    const omp = join(root, 'omp', 'node_modules', '.bin', 'omp');
    const resolved = await resolveBinary(omp, { pathEnv: '', cwd: root });
    expect(resolved.file).toBe(join(root, 'omp', 'node_modules', '.bin', 'bun'));
    expect(resolved.prefixArgs).toEqual([join(root, 'omp', 'node_modules', '@oh-my-pi', 'pi-coding-agent', 'dist', 'cli.js')]);
  });

  it('says how to get bun when there is none', async () => {
    const lonely = await fakeInstall('lonely', '@oh-my-pi/pi-coding-agent', '18.2.3', 'omp', '#!/usr/bin/env bun', false);
    const error = await resolveBinary(lonely, { pathEnv: '', cwd: root }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PiNotFoundError);
    expect((error as Error).message).toMatch(/Bun script .*install bun .*PiConfig\.runtime/);
  });

  it('uses PiConfig.runtime when given (pi 1.x under Bun)', async () => {
    const pi1 = join(root, 'pi1', 'node_modules', '.bin', 'pi');
    const bun = join(root, 'omp', 'node_modules', '.bin', 'bun');
    expect((await resolveBinary(pi1, { pathEnv: '', runtime: bun })).file).toBe(bun);
  });
});

describe('capabilities', () => {
  it('follows the version inside a dialect', () => {
    expect(capabilitiesOf('omp', '18.2.3')).toMatchObject({
      promptResult: false,
      sessionSettled: false,
      unknownCommandId: false,
      readyFrame: true,
      protocolV2: true,
    });
    expect(capabilitiesOf('omp', '18.3.4')).toMatchObject({ promptResult: true, sessionSettled: true, unknownCommandId: true });
    expect(capabilitiesOf('pi-1', '0.80.1')).toMatchObject({ agentSettled: false, deltaOnlyUpdates: false, promptDisposition: false });
    expect(capabilitiesOf('pi-1', '1.5.2')).toMatchObject({ agentSettled: true, deltaOnlyUpdates: true, promptDisposition: true, clearQueue: true });
    expect(capabilitiesOf('pi-0.73')).toMatchObject({ agentSettled: false, queueEvents: true, approvals: 'extension', version: undefined });
  });

  it('knows which commands a dialect lacks', () => {
    expect(unsupportedCommandHint(capabilitiesOf('omp'), 'clone')).toBe('');
    expect(unsupportedCommandHint(capabilitiesOf('omp'), 'get_commands')).toBe('it calls it "get_available_commands"');
    expect(unsupportedCommandHint(capabilitiesOf('pi-1'), 'clear_queue')).toBeUndefined();
    expect(unsupportedCommandHint(capabilitiesOf('pi-0.73'), 'nobody_knows_this')).toBeUndefined();
  });

  it('compares versions numerically', () => {
    expect(versionAtLeast('0.80.4', '0.80.4')).toBe(true);
    expect(versionAtLeast('0.100.0', '0.99.0')).toBe(true);
    expect(versionAtLeast('18.2.11', '18.3.1')).toBe(false);
    expect(versionAtLeast('1.0.0-beta.1', '0.99.0')).toBe(true);
  });
});

describe('RpcChunkAssembler', () => {
  const chunks = (text: string, chunkId: string, count: number) => {
    const data = Buffer.from(text, 'utf8');
    const size = Math.ceil(data.length / count);
    return Array.from({ length: count }, (_, index) => ({
      type: 'rpc_chunk' as const,
      chunkId,
      index,
      count,
      byteLength: data.length,
      data: data.subarray(index * size, (index + 1) * size).toString('base64'),
    }));
  };

  it('reassembles in order, across multi-byte characters', () => {
    const text = JSON.stringify({ type: 'x', text: 'é🙂'.repeat(100) });
    const assembler = new RpcChunkAssembler();
    const outcomes = chunks(text, 'rpc-1', 9).map((chunk) => assembler.push(chunk));
    expect(outcomes.slice(0, -1).every((outcome) => outcome.kind === 'pending')).toBe(true);
    expect(outcomes.at(-1)).toEqual({ kind: 'frame', line: text });
    expect(assembler.pending).toBe(false);
  });

  it('reports an interleaved or abandoned sequence once, then recovers', () => {
    const assembler = new RpcChunkAssembler();
    const [a0, a1] = chunks('{"a":1}', 'rpc-a', 2);
    const b = chunks('{"b":2}', 'rpc-b', 2);
    expect(assembler.push(a0!).kind).toBe('pending');
    expect(assembler.push(b[0]!)).toMatchObject({ kind: 'error', message: expect.stringContaining('rpc-a was abandoned') });
    expect(assembler.push(a1!).kind).toBe('pending'); // the abandoned sequence's late chunk: ignored
    expect(assembler.push(b[1]!)).toEqual({ kind: 'frame', line: '{"b":2}' });
    const c = chunks('{"c":3}', 'rpc-c', 2);
    expect(assembler.push(c[1]!).kind).toBe('error'); // a stray chunk: its sequence is dropped
    expect(assembler.push(c[0]!).kind).toBe('pending');
  });

  it('rejects a wrong byte length, bad UTF-8 and oversize sequences', () => {
    const [first, second] = chunks('{"a":1}', 'rpc-l', 2);
    const lying = new RpcChunkAssembler();
    lying.push({ ...first!, byteLength: 99 });
    expect(lying.push({ ...second!, byteLength: 99 })).toMatchObject({ kind: 'error', message: expect.stringContaining('announced 99') });
    const bad = new RpcChunkAssembler();
    bad.push({ type: 'rpc_chunk', chunkId: 'u', index: 0, count: 2, data: Buffer.from([0xc3]).toString('base64') });
    expect(bad.push({ type: 'rpc_chunk', chunkId: 'u', index: 1, count: 2, data: Buffer.from([0x28]).toString('base64') })).toMatchObject({
      kind: 'error',
      message: expect.stringContaining('UTF-8'),
    });
    const small = new RpcChunkAssembler(4);
    expect(small.push({ type: 'rpc_chunk', chunkId: 's', index: 0, count: 2, data: Buffer.from('123456').toString('base64') })).toMatchObject({
      kind: 'error',
      message: expect.stringContaining('exceeds 4 bytes'),
    });
  });
});
