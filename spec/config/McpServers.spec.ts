/**
 * `PiConfig.mcpServers`: the schema (stdio and HTTP servers, Claude's / Copilot's shape), the
 * PiConfigErrors that name `mcpServers` and the server, the argv per dialect (`-e builtin:mcp`
 * on pi 1.x, even under `--no-extensions`), the `mcp.json` pi reads, and redaction.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isPidriverMcpJson, McpServerSchema, McpServersSchema, piMcpJson, type McpServer } from '../../src/config/McpServers.js';
import { PiConfig, type PiConfigInput } from '../../src/config/PiConfig.js';
import { PiConfigError } from '../../src/errors.js';
import type { Dialect } from '../../src/protocol/dialects.js';

const stock = { command: '/usr/bin/node', args: ['/srv/stock.mjs'], env: { STOCK_TOKEN: 's3cret' } } satisfies McpServer;
const docs = { type: 'http', url: 'https://example.com/mcp', headers: { Authorization: 'Bearer t0ken' } } satisfies McpServer;
const base = { agentDir: '/srv/agent', mcpServers: { stock, docs } } satisfies PiConfigInput;

/** The PiConfigError `fn` throws. */
function configError(fn: () => unknown): PiConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PiConfigError);
    return error as PiConfigError;
  }
  throw new Error('expected a PiConfigError');
}

describe('McpServerSchema', () => {
  it.each([
    ['stdio without type', { command: 'node' }],
    ['stdio with everything', { type: 'stdio', command: 'node', args: ['a', ''], env: { A_B: 'x' }, cwd: 'tools' }],
    ['streamable HTTP', { type: 'http', url: 'http://127.0.0.1:3000/mcp' }],
    ['legacy SSE (the shape has it)', { type: 'sse', url: 'https://example.com/sse', headers: { 'X-Api-Key': 'k' } }],
  ])('accepts %s', (_name, server) => {
    expect(McpServerSchema.parse(server)).toEqual(server);
  });

  it.each([
    ['no command', {}, ['command'], /needs a command/],
    ['an empty command', { command: '' }, ['command'], /must not be empty/],
    ['a url without type', { url: 'https://example.com/mcp' }, ['command'], /type: 'http'/],
    ['an unknown type', { type: 'ws', url: 'wss://example.com' }, ['type'], /discriminator/i],
    ['a non-http url', { type: 'http', url: 'file:///etc/passwd' }, ['url'], /http or https URL/],
    ['not a url', { type: 'http', url: 'example.com/mcp' }, ['url'], /http or https URL/],
    ['a bad env name', { command: 'node', env: { 'A-B': 'x' } }, ['env', 'A-B'], /./],
    ['a bad header name', { type: 'http', url: 'https://e.com', headers: { 'Bad Header': 'x' } }, ['headers', 'Bad Header'], /./],
    ['a header value with a line break', { type: 'http', url: 'https://e.com', headers: { A: 'x\r\nB: y' } }, ['headers', 'A'], /line break/],
    ['an unknown field', { command: 'node', shell: true }, [], /shell/],
    ['http fields on stdio', { command: 'node', headers: {} }, [], /headers/],
  ])('refuses %s', (_name, server, path, message) => {
    const result = McpServerSchema.safeParse(server);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(path);
    expect(result.error?.issues.map((issue) => issue.message).join('; ')).toMatch(message);
  });

  it('refuses names pi cannot take, and two names pi sees as one server', () => {
    expect(McpServersSchema.safeParse({ 'has space': { command: 'x' } }).error?.issues[0]).toMatchObject({ path: ['has space'] });
    expect(McpServersSchema.safeParse({ 'a.b': { command: 'x' } }).success).toBe(false);
    const clash = McpServersSchema.safeParse({ 'my-tools': { command: 'x' }, my_tools: { command: 'y' } });
    expect(clash.error?.issues[0]).toMatchObject({ path: ['my_tools'], message: expect.stringContaining("'my-tools'") as unknown });
    expect(McpServersSchema.parse({ 'my-tools': { command: 'x' }, Tools_2: { command: 'y' } })).toBeDefined();
  });
});

describe('PiConfig.mcpServers', () => {
  it('is optional, and parses into a frozen copy', () => {
    expect(PiConfig.parse({}).mcpServers).toBeUndefined();
    const config = PiConfig.parse(base);
    expect(config.mcpServers).toEqual({ stock, docs });
    expect(Object.isFrozen(config.mcpServers?.['stock'])).toBe(true);
    expect(config.with({ model: 'm' }).mcpServers).toEqual({ stock, docs });
  });

  it.each<[string, PiConfigInput, string, RegExp]>([
    ['a bad server', { agentDir: '/a', mcpServers: { stock: { command: '' } } }, 'mcpServers.stock.command', /mcpServers\.stock\.command: must not be empty/],
    [
      'a bad url',
      { agentDir: '/a', mcpServers: { docs: { type: 'http', url: 'ftp://x' } } },
      'mcpServers.docs.url',
      /mcpServers\.docs\.url: must be an http or https URL/,
    ],
    [
      'a bad name',
      { agentDir: '/a', mcpServers: { 'no/slash': { command: 'x' } } },
      'mcpServers.no/slash',
      /mcpServers\.no\/slash: must be letters, digits, _ and -/,
    ],
    ['an unknown field', { agentDir: '/a', mcpServers: { stock: { command: 'x', timeout: 5 } as never } }, 'mcpServers.stock', /unknown field\(s\): timeout/],
    ['no agentDir', { mcpServers: { stock } }, 'mcpServers', /needs a private agentDir/],
    ['a launcher', { ...base, launcher: ['ssh', 'host'] }, 'mcpServers', /launcher/],
    ['a NUL byte in an arg', { agentDir: '/a', mcpServers: { stock: { command: 'x', args: ['a\0b'] } } }, 'mcpServers.stock.args.0', /NUL byte/],
    ['a NUL byte in a server name', { agentDir: '/a', mcpServers: { 'a\0': { command: 'x' } } }, 'mcpServers.a\0', /must be letters, digits, _ and -/],
    ['a NUL byte in an env value', { agentDir: '/a', mcpServers: { stock: { command: 'x', env: { A: '\0' } } } }, 'mcpServers.stock.env.A', /NUL byte/],
  ])('%s is a PiConfigError naming the field', (_name, input, field, message) => {
    const error = configError(() => PiConfig.parse(input));
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it('an empty record is the same as none: no agentDir needed, nothing loaded, fine on every dialect', () => {
    const config = PiConfig.parse({ mcpServers: {} });
    for (const dialect of ['pi-0.73', 'pi-1', 'omp'] as const) expect(config.toArgv({ dialect })).not.toContain('builtin:mcp');
  });

  it('toJSON(), toString() and inspect() redact env and header values, not the rest', () => {
    const config = PiConfig.parse(base);
    const json = config.toJSON();
    expect(json['mcpServers']).toEqual({
      stock: { ...stock, env: { STOCK_TOKEN: '***' } },
      docs: { ...docs, headers: { Authorization: '***' } },
    });
    for (const text of [JSON.stringify(json), config.toString(), inspect(config)]) {
      expect(text).not.toContain('s3cret');
      expect(text).not.toContain('t0ken');
      expect(text).toContain('/srv/stock.mjs');
    }
    expect(config.mcpServers?.['stock']).toEqual(stock); // the config itself keeps them
  });
});

describe('PiConfig.toArgv with mcpServers', () => {
  it('loads pi 1.x’s built-in MCP extension by name, under --no-extensions (the default) and without it', () => {
    const argv = PiConfig.parse(base).toArgv({ dialect: 'pi-1' });
    expect(argv).toContain('--no-extensions');
    expect(argv.join(' ')).toContain('-e builtin:mcp');
    expect(
      PiConfig.parse({ ...base, noExtensions: false })
        .toArgv({ dialect: 'pi-1', version: '1.5.2' })
        .join(' '),
    ).toContain('-e builtin:mcp');
    // Without servers: today's argv, MCP off under --no-extensions.
    expect(PiConfig.parse({ agentDir: '/srv/agent' }).toArgv({ dialect: 'pi-1' })).not.toContain('builtin:mcp');
  });

  it('keeps the user’s own extensions after it', () => {
    const argv = PiConfig.parse({ ...base, extensions: ['/x/ext.ts'] }).toArgv({ dialect: 'pi-1' });
    expect(argv.indexOf('builtin:mcp')).toBeLessThan(argv.indexOf('/x/ext.ts'));
  });

  it.each<[Dialect, string | undefined, RegExp]>([
    ['pi-0.73', undefined, /^pi 0\.73 has no MCP servers in RPC mode: remove PiConfig\.mcpServers/],
    ['omp', '18.2.3', /^omp has no MCP servers in RPC mode: remove PiConfig\.mcpServers/],
    ['pi-1', '0.87.1', /^pi 0\.87\.1 has no MCP support \(it came with pi 0\.99\)/],
  ])('on %s %s is a PiConfigError naming mcpServers and why', (dialect, version, message) => {
    const error = configError(() => PiConfig.parse(base).toArgv({ dialect, version }));
    expect(error.field).toBe('mcpServers');
    expect(error.message).toMatch(message);
  });

  it('accepts pi 1.x from 0.99.0 on, and a pi 1.x of unknown version (the newest is assumed)', () => {
    for (const version of ['0.99.0', '1.0.4', '1.5.2', undefined]) {
      expect(PiConfig.parse(base).toArgv({ dialect: 'pi-1', version })).toContain('builtin:mcp');
    }
  });

  it('refuses an SSE server on pi 1.x, naming it', () => {
    const config = PiConfig.parse({ agentDir: '/a', mcpServers: { old: { type: 'sse', url: 'https://example.com/sse' } } });
    const error = configError(() => config.toArgv({ dialect: 'pi-1' }));
    expect(error.field).toBe('mcpServers.old.type');
    expect(error.message).toMatch(/no legacy SSE transport for MCP server 'old': use type 'http'/);
  });

  it('never puts the servers, their env or their headers in argv or the environment', () => {
    const config = PiConfig.parse(base);
    const everything = [...config.toArgv({ dialect: 'pi-1' }), ...Object.entries(config.toEnv({ PATH: '/bin' })).flat()].join('\n');
    for (const secret of ['s3cret', 't0ken', 'example.com', '/srv/stock.mjs']) expect(everything).not.toContain(secret);
  });
});

describe('piMcpJson', () => {
  it('writes pi’s mcp.json: marked as pidriver’s, every server with direct exposure, HTTP as type http', () => {
    const json = piMcpJson({
      stock: { command: 'node', args: ['s.mjs'], cwd: 'tools' },
      docs: { type: 'http', url: 'https://example.com/mcp' },
      bare: { command: 'x' },
    });
    expect(json).toEqual({
      pidriver: expect.any(String) as unknown,
      mcpServers: {
        stock: { command: 'node', args: ['s.mjs'], cwd: 'tools', exposure: 'direct' },
        docs: { type: 'http', url: 'https://example.com/mcp', exposure: 'direct' },
        bare: { command: 'x', exposure: 'direct' },
      },
    });
    expect(isPidriverMcpJson(json)).toBe(true);
    expect(isPidriverMcpJson({ mcpServers: {} })).toBe(false);
    expect(isPidriverMcpJson(undefined)).toBe(false);
    expect(isPidriverMcpJson(['pidriver'])).toBe(false);
  });

  it('escapes env and header values so pi takes them literally ($NAME is not expanded, a leading ! runs no command)', () => {
    const json = piMcpJson({
      s: { command: 'x', env: { A: '$HOME', B: '${HOME}', C: '!rm -rf ~', D: 'a$$b', E: 'plain', F: '!$X', G: '' } },
      h: { type: 'http', url: 'https://e.com', headers: { Authorization: '!gh auth token', X: 'Bearer $TOKEN' } },
    }) as { mcpServers: Record<string, { env?: Record<string, string>; headers?: Record<string, string> }> };
    expect(json.mcpServers['s']?.env).toEqual({ A: '$$HOME', B: '$${HOME}', C: '$!rm -rf ~', D: 'a$$$$b', E: 'plain', F: '$!$$X', G: '' });
    expect(json.mcpServers['h']?.headers).toEqual({ Authorization: '$!gh auth token', X: 'Bearer $$TOKEN' });
    // The same unescaping pi applies (`$$` → `$`, `$!` → `!`, left to right) gives the values back.
    const unescape = (value: string) => value.replace(/\$([$!])/g, '$1');
    expect(unescape(json.mcpServers['s']!.env!['F']!)).toBe('!$X');
    expect(unescape(json.mcpServers['s']!.env!['D']!)).toBe('a$$b');
  });
});
