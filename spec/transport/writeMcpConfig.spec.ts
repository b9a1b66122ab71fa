/**
 * `writeMcpConfig`: `PiConfig.mcpServers` reach pi 1.x as `<agentDir>/mcp.json` (pidriver's own
 * file, mode 0600), written when pi is spawned; a user's own `mcp.json` is never touched; and
 * the spawn goes through it (on the fake pi script, with the dialect pinned), or, on a dialect
 * without MCP, fails before it.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { piMcpJson, type McpServers } from '../../src/config/McpServers.js';
import { PiConfig, type PiConfigInput } from '../../src/config/PiConfig.js';
import { PiConfigError, PiStartError } from '../../src/errors.js';
import { PiClient } from '../../src/session/PiClient.js';
import { SubprocessTransport } from '../../src/transport/SubprocessTransport.js';
import { writeMcpConfig } from '../../src/transport/writeMcpConfig.js';
import { FAKE_PI } from '../reliability/fakePi.js';

const root = mkdtempSync(join(tmpdir(), 'pidriver-mcp-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let count = 0;
/** A fresh agent dir path (not created). */
const freshAgentDir = () => join(root, `agent-${++count}`);

const servers = { stock: { command: '/usr/bin/node', args: ['/srv/stock.mjs'], env: { TOKEN: 's3cret' } } } satisfies McpServers;
const configWith = (agentDir: string, input: PiConfigInput = {}) => PiConfig.parse({ agentDir, mcpServers: servers, ...input });
const expected = `${JSON.stringify(piMcpJson(servers), null, 2)}\n`;

describe('writeMcpConfig', () => {
  it('writes <agentDir>/mcp.json (mode 0600, the dir created 0700) with the servers as pi reads them', async () => {
    const agentDir = freshAgentDir();
    await writeMcpConfig(configWith(agentDir), { agentDir, dialect: 'pi-1' });
    const path = join(agentDir, 'mcp.json');
    expect(readFileSync(path, 'utf8')).toBe(expected);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(agentDir).mode & 0o777).toBe(0o700);
  });

  it('leaves an identical file as it is (sessions sharing an agent dir and servers never race), and replaces its own older one', async () => {
    const agentDir = freshAgentDir();
    const path = join(agentDir, 'mcp.json');
    await writeMcpConfig(configWith(agentDir), { agentDir, dialect: 'pi-1' });
    const inode = statSync(path).ino;
    await writeMcpConfig(configWith(agentDir), { agentDir, dialect: 'pi-1' });
    expect(statSync(path).ino).toBe(inode);

    const other = PiConfig.parse({ agentDir, mcpServers: { docs: { type: 'http', url: 'https://example.com/mcp' } } });
    await writeMcpConfig(other, { agentDir, dialect: 'pi-1' });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(piMcpJson({ docs: { type: 'http', url: 'https://example.com/mcp' } }));
  });

  it.each([
    ['the user’s own mcp.json', '{ "mcpServers": { "mine": { "command": "x" } } }\n'],
    ['a file that is not JSON', 'not json'],
  ])('never touches %s: a PiConfigError naming mcpServers', async (_name, content) => {
    const agentDir = freshAgentDir();
    mkdirSync(agentDir);
    const path = join(agentDir, 'mcp.json');
    writeFileSync(path, content);
    const error = await writeMcpConfig(configWith(agentDir), { agentDir, dialect: 'pi-1' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PiConfigError);
    expect(error).toMatchObject({ field: 'mcpServers', message: expect.stringContaining('was not written by pidriver') as unknown });
    expect(readFileSync(path, 'utf8')).toBe(content);
  });

  it('without servers, removes its own leftover file only where pi would load MCP (pi 1.x, noExtensions: false)', async () => {
    const agentDir = freshAgentDir();
    const path = join(agentDir, 'mcp.json');
    await writeMcpConfig(configWith(agentDir), { agentDir, dialect: 'pi-1' });
    // Under --no-extensions (the default) pi never reads it, and another session may use it: kept.
    await writeMcpConfig(PiConfig.parse({ agentDir }), { agentDir, dialect: 'pi-1' });
    await writeMcpConfig(PiConfig.parse({ agentDir, noExtensions: false }), { agentDir, dialect: 'pi-0.73' });
    expect(existsSync(path)).toBe(true);
    await writeMcpConfig(PiConfig.parse({ agentDir, noExtensions: false }), { agentDir, dialect: 'pi-1' });
    expect(existsSync(path)).toBe(false);

    writeFileSync(path, '{ "mcpServers": {} }\n');
    await writeMcpConfig(PiConfig.parse({ agentDir, noExtensions: false }), { agentDir, dialect: 'pi-1' });
    expect(readFileSync(path, 'utf8')).toBe('{ "mcpServers": {} }\n'); // the user's: kept
  });

  it('does nothing with a launcher or without an agent dir, and refuses servers without one', async () => {
    await expect(
      writeMcpConfig(PiConfig.parse({ launcher: ['ssh', 'host'], noExtensions: false }), { agentDir: '/nonexistent', dialect: 'pi-1' }),
    ).resolves.toBeUndefined();
    await expect(writeMcpConfig(PiConfig.parse({ noExtensions: false }), { agentDir: undefined, dialect: 'pi-1' })).resolves.toBeUndefined();
    await expect(writeMcpConfig(configWith('/srv/agent'), { agentDir: undefined, dialect: 'pi-1' })).rejects.toBeInstanceOf(PiConfigError);
  });

  it('a file that cannot be written is a PiStartError naming it, and leaves no temporary file', async () => {
    const agentDir = freshAgentDir();
    mkdirSync(join(agentDir, 'mcp.json'), { recursive: true }); // a directory where the file goes
    const error = await writeMcpConfig(configWith(agentDir), { agentDir, dialect: 'pi-1' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PiStartError);
    expect((error as Error).message).toContain(join(agentDir, 'mcp.json'));
    expect(readdirSync(agentDir)).toEqual(['mcp.json']);
  });
});

describe('spawning with mcpServers', () => {
  it('PiClient detects pi 0.73 (this repo’s, from its package.json) and refuses the servers before anything is spawned or written', async () => {
    const agentDir = freshAgentDir();
    const cwd = mkdtempSync(join(root, 'cwd-'));
    const error = await new PiClient({ config: configWith(agentDir) }).start({ cwd }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PiConfigError);
    expect(error).toMatchObject({ field: 'mcpServers', message: expect.stringMatching(/^pi 0\.73 has no MCP servers in RPC mode/) as unknown });
    expect(existsSync(agentDir)).toBe(false);
  });

  it('writes the agent dir’s mcp.json before it spawns pi 1.x', async () => {
    const agentDir = freshAgentDir();
    const cwd = mkdtempSync(join(root, 'cwd-'));
    const transport = new SubprocessTransport(configWith(agentDir, { binary: FAKE_PI, dialect: 'pi-1' }), { cwd });
    try {
      await transport.start();
      expect(readFileSync(join(agentDir, 'mcp.json'), 'utf8')).toBe(expected);
    } finally {
      await transport.close();
    }
  });

  it('on pi 0.73 fails with a PiConfigError naming mcpServers, spawns nothing and writes nothing', async () => {
    const agentDir = freshAgentDir();
    const cwd = mkdtempSync(join(root, 'cwd-'));
    const transport = new SubprocessTransport(configWith(agentDir, { binary: FAKE_PI, dialect: 'pi-0.73' }), { cwd });
    const error = await transport.start().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PiConfigError);
    expect(error).toMatchObject({ field: 'mcpServers' });
    expect(transport.pid).toBeUndefined();
    expect(existsSync(agentDir)).toBe(false);
    await transport.close();
  });
});
