// typescript-eslint's type-checked recommended rules for every TypeScript file, with the
// Temporal SDK's own rules as errors (floating promises, type-only imports); the workflow
// sandbox rules (no Node builtins, no I/O clients, no process, activities as types only) in
// workflows/ and contract/, which imports nothing of Quarry's; process.env only in config.ts and
// tooling. eslint-config-prettier comes last.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

const TS_FILES = ['**/*.ts', '**/*.mts', '**/*.cts'];

/** Where reading process.env is allowed: config.ts is the only reader in application code. */
const ENV_READERS = ['config.ts', 'scripts/**', 'test/**', 'bench/**'];

const processEnv = {
  object: 'process',
  property: 'env',
  message: 'Read settings through config.ts (loadConfig), the only reader of process.env.',
};

const processEnvImports = ['process', 'node:process'].map((name) => ({
  name,
  importNames: ['env'],
  message: processEnv.message,
}));

/** A layer's rule: files under `folder` import nothing from the `forbidden` top-level folders. */
function layer(name, folder, forbidden, message) {
  return {
    name,
    files: [`${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: processEnvImports,
          patterns: [{ regex: `^(\\.\\./)+(${forbidden.join('|')})([/.].*)?$`, message }],
        },
      ],
    },
  };
}

const workflowSandbox = 'Workflow code runs in a deterministic sandbox without I/O';

/** What code that runs in the workflow sandbox may not import (workflows/, and contract/ they import). */
const sandboxImports = {
  paths: [
    ...builtinModules.map((name) => ({ name, message: `${workflowSandbox}: no Node builtins.` })),
    ...['pg', 'slonik', 'pgvector'].map((name) => ({
      name,
      message: `${workflowSandbox}: database access belongs in activities.`,
    })),
  ],
  patterns: [
    { group: ['node:*'], message: `${workflowSandbox}: no Node builtins.` },
    {
      group: ['pg/*', 'pg-*', '@slonik/*', 'slonik/*', 'slonik-*'],
      message: `${workflowSandbox}: database access belongs in activities.`,
    },
    {
      group: ['@temporalio/activity', '@temporalio/client', '@temporalio/worker', '@temporalio/testing'],
      allowTypeImports: true,
      message: `${workflowSandbox}: use @temporalio/workflow and @temporalio/common in workflows.`,
    },
  ],
};

const sandboxGlobals = {
  'no-restricted-globals': [
    'error',
    { name: 'process', message: `${workflowSandbox}: no process, and no environment reads.` },
    { name: 'require', message: `${workflowSandbox}: use ES imports.` },
  ],
  'no-restricted-properties': [
    'error',
    { ...processEnv, message: `${workflowSandbox}: pass settings in the workflow input.` },
    { object: 'globalThis', property: 'process', message: `${workflowSandbox}: no process.` },
  ],
};

export default defineConfig(
  globalIgnores(['node_modules/', '.local/', 'dist/', 'coverage/', 'bench/results/']),

  js.configs.recommended,

  {
    files: TS_FILES,
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-duplicate-imports': ['error', { allowSeparateTypeImports: true }],
      'object-shorthand': ['error', 'always'],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'separate-type-imports' },
      ],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },

  {
    // Tests read untyped JSON response bodies and assert their exact values instead.
    name: 'quarry/tests-read-untyped-bodies',
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },

  {
    name: 'quarry/process-env-only-in-config',
    files: TS_FILES,
    ignores: ENV_READERS,
    rules: {
      'no-restricted-properties': ['error', processEnv],
      'no-restricted-imports': ['error', { paths: processEnvImports }],
    },
  },

  // The SQL layer sits below the jobs that write it and the API that reads it: it speaks
  // contract/ and its own row types, and imports none of theirs.
  layer(
    'quarry/db-imports-downward',
    'db',
    ['api', 'activities', 'workflows', 'workflow-client', 'rag', 'search'],
    'db/ imports nothing from the API, activities, workflows, the workflow client, rag/ or search/: it takes vectors and returns rows.',
  ),

  // rag/ is pure domain code (extractors, chunking, embedders, fusion, answerers): no SQL layer,
  // no API, no orchestration. The search service (search/) is what joins it to db/.
  layer(
    'quarry/rag-is-pure',
    'rag',
    ['api', 'activities', 'workflows', 'workflow-client', 'db', 'search'],
    'rag/ is pure domain code: it imports nothing from db/, search/, the API or the orchestration.',
  ),

  layer(
    'quarry/search-below-api',
    'search',
    ['api', 'activities', 'workflows', 'workflow-client'],
    'search/ sits below the API and the workflows that call it.',
  ),

  {
    name: 'quarry/workflow-sandbox',
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: sandboxImports.paths,
          patterns: [
            ...sandboxImports.patterns,
            {
              // The failure catalogue alone is a value workflows share with activities.
              regex: '^(\\.\\./)+activities(?!/failure-types\\.ts$)([/.-].*)?$',
              allowTypeImports: true,
              message:
                'Import activities as types only (`import type`) and call them through proxyActivities<ReturnType<typeof createActivities>>.',
            },
            {
              regex: '^(\\.\\./)+(db|api|config)([/.].*)?$',
              allowTypeImports: true,
              message: `${workflowSandbox}: only types may come from db/, api/ and config.ts.`,
            },
          ],
        },
      ],
      ...sandboxGlobals,
    },
  },

  {
    // contract/ is the vocabulary db/, config.ts, workflows/ and the workflow client share: it
    // imports nothing of theirs (a leaf), and runs in the workflow sandbox.
    name: 'quarry/contract-is-a-leaf',
    files: ['contract/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: sandboxImports.paths,
          patterns: [
            ...sandboxImports.patterns,
            { regex: '^\\.\\./', message: 'contract/ is a leaf: it imports nothing of the rest of Quarry.' },
          ],
        },
      ],
      ...sandboxGlobals,
    },
  },

  prettier,
);
