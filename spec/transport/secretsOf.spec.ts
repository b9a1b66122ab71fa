/**
 * Which values pidriver masks in pi's stderr and in the lines it could not read: the API key,
 * secret-named env values, and the env and header values of MCP servers.
 */
import { describe, expect, it } from 'vitest';
import { PiConfig } from '../../src/config/PiConfig.js';
import { redactSecrets, secretsOf } from '../../src/transport/redactSecrets.js';

describe('secretsOf', () => {
  it('includes MCP servers’ env and header values', () => {
    const config = PiConfig.parse({
      agentDir: '/tmp/agent',
      mcpServers: {
        stock: { command: 'node', args: ['stock.mjs'], env: { STOCK_DB_URL: 'postgres://user:hunter2hunter2@db/stock' } },
        remote: { type: 'http', url: 'https://mcp.example.com', headers: { Authorization: 'Bearer abcdefghijklmnop' } },
      },
    });
    const secrets = secretsOf(config, {});
    const line = 'connecting to postgres://user:hunter2hunter2@db/stock with Bearer abcdefghijklmnop';
    expect(redactSecrets(line, secrets)).toBe('connecting to *** with ***');
  });
});
