/**
 * The layering rules of eslint.config.js (`no-restricted-imports`, one config object per
 * folder): for every forbidden edge, an import in a file of that folder is reported, and an
 * import the folder may make is not. ESLint runs on snippets (`lintText` with a `filePath` in the
 * folder) with only this rule, so no type information is needed.
 */
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({
    cwd: root,
    overrideConfigFile: `${root}eslint.config.js`,
    // The snippets are not files of the TypeScript project: parse without type information.
    overrideConfig: { languageOptions: { parserOptions: { projectService: false, project: null } } },
    ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports',
  });
});

/** The `no-restricted-imports` messages for one import in a file of `folder`. */
async function restricted(folder: string, specifier: string): Promise<string[]> {
  const code = `import type { X } from '${specifier}';\nexport type Y = X;\n`;
  const [result] = await eslint.lintText(code, { filePath: `${root}${folder}/__layering__.ts` });
  expect(result!.messages.filter((m) => m.fatal)).toEqual([]);
  return result!.messages.filter((message) => message.ruleId === 'no-restricted-imports').map((message) => message.message);
}

/** Folder → imports it must never make, and imports it may make. */
const RULES: Record<string, { readonly forbidden: readonly string[]; readonly allowed: readonly string[] }> = {
  'src/browser': {
    forbidden: [
      '../session/PiSession.js',
      '../session/types.js',
      '../transport/PiTransport.js',
      '../manager/PiSessionManager.js',
      '../bridge/sseFrame.js',
      'node:fs',
      'fs',
      'execa',
    ],
    allowed: ['../wire/values.js', '../protocol/events.js', '../rx/ReplayHub.js', '../usage/UsageTotals.js', '../errors.js', './SseParser.js', 'rxjs'],
  },
  'src/bridge': {
    forbidden: ['../transport/PiTransport.js', '../browser/decodeMessage.js', 'execa'],
    allowed: ['../wire/names.js', '../session/types.js', '../protocol/events.js', 'node:http'],
  },
  'src/protocol': {
    forbidden: ['../transport/LineSplitter.js', '../config/PiConfig.js', '../session/PiSession.js', 'execa'],
    allowed: ['./frames.js', '../usage/UsageTotals.js', '../errors.js', 'zod'],
  },
  'src/policies': {
    forbidden: ['../transport/PiTransport.js', '../session/PiSession.js', 'node:child_process'],
    allowed: ['../protocol/events.js', '../rx/longTimer.js', './types.js'],
  },
  'src/manager': {
    forbidden: ['../transport/SubprocessTransport.js', 'execa'],
    allowed: ['../session/PiClient.js', '../usage/UsageTotals.js', './reapIdle.js'],
  },
  'src/config': {
    forbidden: ['../session/PiClient.js'],
    allowed: ['../protocol/dialects.js', '../errors.js', 'node:path'],
  },
  'src/wire': {
    forbidden: [
      '../session/types.js',
      '../policies/types.js',
      '../browser/errors.js',
      '../bridge/types.js',
      '../transport/PiTransport.js',
      'node:http',
      'execa',
    ],
    allowed: ['../protocol/events.js', '../usage/UsageTotals.js', '../rx/longTimer.js', '../errors.js', './names.js', 'zod', 'rxjs'],
  },
  'src/limits': {
    forbidden: [
      '../session/PiSession.js',
      '../transport/PiTransport.js',
      '../config/PiConfig.js',
      '../manager/PiSessionManager.js',
      '../policies/types.js',
      'node:timers',
      'execa',
    ],
    allowed: ['../protocol/events.js', '../rx/longTimer.js', '../usage/UsageTotals.js', '../errors.js', './RunLimits.js', 'zod', 'rxjs'],
  },
  'src/tools': {
    forbidden: [
      '../transport/SubprocessTransport.js',
      '../manager/PiSessionManager.js',
      '../bridge/sessionHandler.js',
      '../browser/connectSession.js',
      'execa',
    ],
    allowed: ['../errors.js', '../protocol/hostCalls.js', './hostTool.js', 'zod', 'rxjs'],
  },
  'src/sessionFiles': {
    forbidden: [
      '../transport/SubprocessTransport.js',
      '../session/PiSession.js',
      '../manager/PiSessionManager.js',
      '../bridge/sessionHandler.js',
      '../browser/connectSession.js',
      '../testing/fakePiEnv.js',
      '../index.js',
      'execa',
      'node:child_process',
      'child_process',
      'fs',
      'rxjs',
    ],
    allowed: ['../protocol/sessionEntries.js', '../config/PiConfig.js', '../errors.js', './readSessionFile.js', 'node:fs/promises', 'node:readline', 'zod'],
  },
  'src/rx': {
    forbidden: ['../protocol/events.js', '../session/types.js', '../usage/UsageTotals.js', 'node:timers', 'zod'],
    allowed: ['../errors.js', './longTimer.js', 'rxjs'],
  },
};

describe('layering lint rules', () => {
  for (const [folder, { forbidden, allowed }] of Object.entries(RULES)) {
    describe(folder, () => {
      it.each(forbidden)(`reports an import of %s`, async (specifier) => {
        expect(await restricted(folder, specifier)).toHaveLength(1);
      });
      it.each(allowed)(`allows an import of %s`, async (specifier) => {
        expect(await restricted(folder, specifier)).toEqual([]);
      });
    });
  }

  it('keeps the browser rule for the web example page too', async () => {
    expect(await restricted('examples/web/page', 'pidriver')).toHaveLength(1);
    expect(await restricted('examples/web/page', 'pidriver/browser')).toEqual([]);
  });

  it('reports with the folder’s reason', async () => {
    expect(await restricted('src/wire', '../session/types.js')).toEqual([
      expect.stringContaining('src/wire/ (the bridge/browser contract) imports only protocol, usage, rx and errors'),
    ]);
  });
});
