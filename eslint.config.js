// @ts-check
import tseslint from 'typescript-eslint';
import rxjsX from 'eslint-plugin-rxjs-x';
import { builtinModules } from 'node:module';

export default tseslint.config(
  {
    ignores: ['dist/**', 'coverage/**', 'node_modules/**', 'test-output/**', 'docs/**', '.pidriver-cache/**', '*.config.*', 'eslint.config.js', '**/fixtures/**/*.mjs', '**/*.mjs'],
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
      'rxjs-x/no-ignored-subscription': 'off',
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
  {
    // Layering (house style item 3): policies and protocol stay pure Observable → Observable code.
    files: ['src/policies/**', 'src/protocol/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['execa', 'node:child_process', 'child_process'], message: 'only src/transport spawns processes' },
            { group: ['**/session/**', '**/transport/**', '**/manager/**'], message: 'policies/protocol must not depend on sessions or transports' },
          ],
        },
      ],
    },
  },
  {
    // pidriver/browser runs in browsers and any bundler: no Node built-ins, nothing that spawns or serves.
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
            { group: ['execa'], message: 'pidriver/browser must not spawn processes' },
            {
              group: ['**/transport/**', '**/manager/**', '**/bridge/**', '**/testing/**', '**/config/**', '**/session/PiSession*', '**/session/PiClient*', '**/index.js', '!./index.js', 'pidriver/*', '!pidriver/browser'],
              message: 'pidriver/browser may use protocol, usage, errors, ReplayHub and types only',
            },
          ],
        },
      ],
    },
  },
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
