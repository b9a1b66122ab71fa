// @ts-check
import tseslint from 'typescript-eslint';
import rxjsX from 'eslint-plugin-rxjs-x';
import { builtinModules } from 'node:module';

/** Only src/transport spawns processes. */
const SPAWN = { group: ['execa', 'node:child_process', 'child_process'], message: 'only src/transport spawns processes' };

/**
 * The `no-restricted-imports` rule of one folder.
 *
 * @param {string[]} files The folder's globs.
 * @param {object[]} patterns Its forbidden import patterns.
 */
const layer = (files, patterns) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns }] } });

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'coverage/**',
      'node_modules/**',
      'test-output/**',
      'docs/**',
      '.pidriver-cache/**',
      '*.config.*',
      'eslint.config.js',
      '**/fixtures/**/*.mjs',
      '**/*.mjs',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  rxjsX.configs.recommended,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      'rxjs-x/no-exposed-subjects': 'error',
      'rxjs-x/no-ignored-subscription': 'error',
      'rxjs-x/no-floating-observables': 'error',
      'rxjs-x/no-unsafe-takeuntil': 'error',
      'rxjs-x/no-nested-subscribe': 'error',
      'rxjs-x/no-internal': 'error',
      'rxjs-x/no-sharereplay': ['error', { allowConfig: true }],
      'rxjs-x/no-connectable': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // Layering: the folders are the architecture, and these rules forbid the imports that must
  // never be (spec/lint/layering.spec.ts shows each one fires). One config object per folder:
  // a later object matching the same file would replace `no-restricted-imports`, not add to it.
  {
    // pidriver/browser runs in browsers and any bundler: no Node built-ins, nothing that spawns or
    // serves, no session internals (a remote session gets everything over the wire).
    files: ['src/browser/**', 'examples/web/page/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...builtinModules.map((name) => ({ name, message: 'pidriver/browser must not import Node built-ins' })),
            { name: 'pidriver', message: 'browser code imports pidriver/browser, not the Node entry point' },
          ],
          patterns: [
            { group: ['node:*'], message: 'pidriver/browser must not import Node built-ins' },
            SPAWN,
            {
              group: [
                '**/session/**',
                '**/transport/**',
                '**/manager/**',
                '**/bridge/**',
                '**/testing/**',
                '**/config/**',
                '**/index.js',
                '!./index.js',
                'pidriver/*',
                '!pidriver/browser',
              ],
              message: 'pidriver/browser may use wire, protocol, usage, rx, policies types and errors only',
            },
          ],
        },
      ],
    },
  },
  layer(
    ['src/bridge/**'],
    [
      SPAWN,
      {
        group: ['**/transport/**', '**/browser/**'],
        message: 'the bridge serves sessions; it shares only src/wire/ with the browser and never touches a transport',
      },
    ],
  ),
  layer(
    ['src/protocol/**'],
    [
      SPAWN,
      {
        group: ['**/transport/**', '**/config/**', '**/session/**', '**/manager/**'],
        message: 'protocol code is pure data and parsing: no transports, config, sessions or managers',
      },
    ],
  ),
  layer(
    ['src/policies/**'],
    [
      SPAWN,
      {
        group: ['**/transport/**', '**/session/**', '**/manager/**'],
        message: 'policies are pure Observable → Observable operators: no sessions or transports',
      },
    ],
  ),
  layer(
    ['src/manager/**'],
    [SPAWN, { group: ['**/transport/**'], message: 'the manager sees sessions only through ManagedSession; it never touches a transport' }],
  ),
  layer(['src/config/**'], [{ group: ['**/session/**'], message: 'config is read by sessions, never the other way round' }]),
  layer(
    ['src/tools/**'],
    [
      SPAWN,
      {
        group: ['**/transport/**', '**/manager/**', '**/bridge/**', '**/browser/**'],
        message: 'tool definitions are data and zod schemas: the session runs them, they never reach a process',
      },
    ],
  ),
  layer(
    ['src/wire/**'],
    [
      {
        regex: '^\\.\\./(?!(protocol|usage|rx)/|errors\\.js$)',
        message: 'src/wire/ (the bridge/browser contract) imports only protocol, usage, rx and errors',
      },
      { regex: '^(?!\\.\\.?/|zod$|rxjs$)', message: 'src/wire/ runs in browsers: zod and rxjs are its only packages' },
    ],
  ),
  layer(
    ['src/limits/**'],
    [
      {
        regex: '^\\.\\./(?!(protocol|usage|rx)/|errors\\.js$)',
        message: 'src/limits/ holds operators over events and usage: it imports only protocol, usage, rx and errors (a session wires them in)',
      },
      { regex: '^(?!\\.\\.?/|zod$|rxjs$)', message: 'src/limits/ holds pure operators: zod and rxjs are its only packages' },
    ],
  ),
  layer(
    ['src/sessionFiles/**'],
    [
      {
        regex: '^\\.\\./(?!(protocol|config)/|errors\\.js$)',
        message: 'src/sessionFiles/ reads session files without pi: it imports only protocol, config and errors (no transport, session, manager, bridge)',
      },
      {
        regex: '^(?!\\.\\.?/|node:(?!child_process$)|zod$)',
        message: 'src/sessionFiles/ reads files: Node built-ins (node:*, but only src/transport spawns processes) and zod are its only packages',
      },
    ],
  ),
  layer(
    ['src/rx/**'],
    [
      { regex: '^\\.\\./(?!errors\\.js$)', message: 'src/rx/ holds generic stream helpers: they import only errors' },
      { regex: '^(?!\\.\\.?/|rxjs$)', message: 'src/rx/ holds generic stream helpers: rxjs is their only package' },
    ],
  ),
  // One concept per file: no source file over 600 lines, and PiSession stays a facade over its parts.
  { files: ['src/**/*.ts'], rules: { 'max-lines': ['error', { max: 600 }] } },
  { files: ['src/session/PiSession.ts'], rules: { 'max-lines': ['error', { max: 500 }] } },
  {
    files: ['spec/**', 'examples/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      'rxjs-x/no-ignored-subscription': 'off',
      'rxjs-x/no-exposed-subjects': 'off',
    },
  },
);
