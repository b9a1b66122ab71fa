/**
 * The layering rule of src/sessionFiles/ in eslint.config.js, shown to fire the way
 * spec/lint/layering.spec.ts shows the other folders' rules: it reads files with Node and zod,
 * imports protocol, config and errors, and never a transport, a session, the manager or the bridge.
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
    overrideConfig: { languageOptions: { parserOptions: { projectService: false, project: null } } },
    ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports',
  });
});

/** The `no-restricted-imports` messages for one import in a file of src/sessionFiles/. */
async function restricted(specifier: string): Promise<string[]> {
  const code = `import type { X } from '${specifier}';\nexport type Y = X;\n`;
  const [result] = await eslint.lintText(code, { filePath: `${root}src/sessionFiles/__layering__.ts` });
  expect(result!.messages.filter((message) => message.fatal)).toEqual([]);
  return result!.messages.filter((message) => message.ruleId === 'no-restricted-imports').map((message) => message.message);
}

describe('the src/sessionFiles layering rule', () => {
  it.each([
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
  ])('reports an import of %s', async (specifier) => {
    expect(await restricted(specifier)).toHaveLength(1);
  });

  it.each(['../protocol/sessionEntries.js', '../config/PiConfig.js', '../errors.js', './readSessionFile.js', 'node:fs/promises', 'node:readline', 'zod'])(
    'allows an import of %s',
    async (specifier) => {
      expect(await restricted(specifier)).toEqual([]);
    },
  );

  it('says why', async () => {
    expect(await restricted('../session/PiSession.js')).toEqual([expect.stringContaining('src/sessionFiles/ reads session files without pi')]);
  });
});
