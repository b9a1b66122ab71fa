/**
 * The web example's server: the fake LLM, two real pi sessions in a `PiSessionManager`, the
 * bridge under `/api`, and the page (its script bundled in memory by esbuild at start-up).
 *
 * `startWebExample()` is what `npm run example:web` (./main.ts) and the browser test run.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { PiClient, PiSessionManager, type PiSession, type StartOptions } from 'pidriver';
import { sessionHandler } from 'pidriver/bridge';
import { startFakePiEnv, type FakePiEnv } from 'pidriver/testing';

export interface WebExampleOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  readonly port?: number;
  /** Address to bind; default 127.0.0.1. */
  readonly host?: string;
}

export interface WebExample extends AsyncDisposable {
  /** The page's URL. */
  readonly url: string;
  /** The fake LLM and pi's working directory (`env.cwd`). */
  readonly env: FakePiEnv;
  readonly manager: PiSessionManager<PiSession, StartOptions>;
  /** Ends the streams, the server, both pi sessions and the fake LLM. */
  close(): Promise<void>;
}

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * Bundles the page script for the browser. In this repository `pidriver/browser` is aliased to
 * its source; in your app, drop the alias and it resolves from node_modules.
 */
async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [here('./page/main.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    alias: { 'pidriver/browser': here('../../src/browser/index.ts') },
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error('esbuild produced no output for the page script');
  return output.text;
}

/**
 * Starts everything and resolves once the page can be loaded.
 *
 * @param options Port and address.
 * @return The running example; `close()` it.
 */
export async function startWebExample(options: WebExampleOptions = {}): Promise<WebExample> {
  const env = await startFakePiEnv({ files: { 'README.md': '# A tiny project\n\nThe web example points pi here.\n' } });
  const client = new PiClient({ config: env.config });
  // idleTimeoutMs: null: a demo left open in a tab shouldn't lose its sessions.
  const manager = new PiSessionManager({ factory: (start: StartOptions) => client.start(start), idleTimeoutMs: null });
  let server: Server | undefined;
  const api = sessionHandler(manager, { basePath: '/api' });
  const close = async () => {
    api.close();
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server?.close(() => resolve()));
    }
    await manager.dispose();
    await env.close();
  };
  try {
    const [script, template] = await Promise.all([
      bundlePage(),
      readFile(here('./page/index.html'), 'utf8'),
      manager.create({ cwd: env.cwd, sessionId: 'left' }),
      manager.create({ cwd: env.cwd, sessionId: 'right' }),
    ]);
    const html = template.replaceAll('__CWD__', env.cwd);
    server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (path === '/api' || path.startsWith('/api/')) return api(req, res);
      if (req.method !== 'GET') {
        res.writeHead(405).end();
        return;
      }
      if (path === '/' || path === '/index.html') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(html);
      } else if (path === '/app.js') {
        res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-store' }).end(script);
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      }
    });
    const listening = server;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
    });
    const { address, port } = listening.address() as AddressInfo;
    const host = address.includes(':') ? `[${address}]` : address;
    return { url: `http://${host}:${port}/`, env, manager, close, [Symbol.asyncDispose]: close };
  } catch (error) {
    await close();
    throw error;
  }
}
