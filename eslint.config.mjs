// ESLint flat config. Type-aware rules for TypeScript, and the import boundaries of
// docs/ARCHITECTURE.md enforced with ESLint's core no-restricted-imports.
//
// Not here: import/no-cycle (STYLE habit 13) needs eslint-plugin-import, which is not installed.
// @eslint/js ships with eslint (it is eslint's own dependency); list it in devDependencies too.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** Orchestrators may import only these: they must stay deterministic under replay. */
const ORCHESTRATION_ALLOWED =
  '^(?!(?:durable-functions(?:/.*)?|\\.\\./shared/(?:contracts|domain)/.+|\\.\\./shared/function-catalog\\.js|\\./[^/]+)$)';

/** Azure SDKs (other than the Functions programming model), native drivers and runtimes: adapters only. */
const SDK_IMPORTS = {
  regex: '^(?:@azure/(?!functions(?:-core)?(?:/|$))|better-sqlite3$|onnxruntime-(?:node|common|web)(?:/|$))',
  message:
    'Only shared/adapters/** may import Azure SDKs, better-sqlite3 and onnxruntime. Depend on a port from ' +
    'shared/ports and let shared/wiring.ts pick the adapter.',
};

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.tessera/', '.test-data/'] },

  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's test()/describe() return promises that the runner itself awaits.
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'separate-type-imports' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      // A leading underscore marks a binding that is unused on purpose (e.g. `_timer: Timer`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      'no-restricted-imports': ['error', { patterns: [SDK_IMPORTS] }],
    },
  },

  {
    // Adapters wrap the SDKs; tests may use them directly to drive emulators (Azurite, Cosmos).
    files: ['shared/adapters/**/*.ts', 'test/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },

  {
    // Orchestrators, not their activities. This entry replaces the rule above for these files;
    // its pattern also rules out the SDKs.
    files: ['orchestrations/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: ORCHESTRATION_ALLOWED,
              message:
                'Orchestrators replay, so they import only durable-functions, ../shared/contracts/*, ' +
                '../shared/domain/* and sibling orchestrators: no node: built-ins, no I/O. Do I/O in an activity.',
            },
          ],
        },
      ],
    },
  },

  {
    files: ['**/*.{js,mjs,cjs}'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: {
      // Node scripts; the `globals` package is not a dependency, so the few globals are listed here.
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly' },
    },
  },
);
