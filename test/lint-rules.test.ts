// Proves the lint rules of eslint.config.js that keep workflows deterministic, contract/ a leaf,
// db/ below the layers that use it, and settings in config.ts: probe sources are linted in
// memory under the paths they would have.
import test from 'ava';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { projectRoot } from '../config.ts';

// Probe files do not exist on disk, so the TypeScript project cannot type them: lint them
// without type information. The type-aware rules are checked through the computed config.
const eslint = new ESLint({
  cwd: projectRoot,
  overrideConfig: [{ files: ['**/*.ts'], ...tseslint.configs.disableTypeChecked }],
});
const configOnly = new ESLint({ cwd: projectRoot });

async function lint(filePath: string, code: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result?.messages ?? [];
}

function errors(messages: Linter.LintMessage[]): string[] {
  return messages.filter((message) => message.severity === 2).map((message) => message.ruleId ?? message.message);
}

test('rejects a value import of activities in a workflow', async (t) => {
  const code =
    "import { createActivities } from '../activities/index.ts';\nexport const activities = createActivities;\n";
  t.deepEqual(errors(await lint('workflows/probe.ts', code)), ['no-restricted-imports']);
  t.deepEqual(errors(await lint('workflows/nested/probe.ts', code.replace('../', '../../'))), [
    'no-restricted-imports',
  ]);
});

test('allows a type-only import of activities in a workflow', async (t) => {
  const code =
    "import type { createActivities } from '../activities/index.ts';\n" +
    'export type Activities = ReturnType<typeof createActivities>;\n';
  t.deepEqual(await lint('workflows/probe.ts', code), []);
});

test('allows a value import of the failure catalogue in a workflow, and of nothing else beside it', async (t) => {
  const code =
    "import { FailureType } from '../activities/failure-types.ts';\nexport const type = FailureType.REEMBED_FAILED;\n";
  t.deepEqual(await lint('workflows/probe.ts', code), []);
  for (const source of [
    '../activities/failures.ts',
    '../activities/failure-types.ts.bak',
    '../activities/documents/failure-types.ts',
  ]) {
    const probe = `import { value } from '${source}';\nexport const copy = value;\n`;
    t.deepEqual(errors(await lint('workflows/probe.ts', probe)), ['no-restricted-imports'], source);
  }
});

test('rejects node builtins, pg and slonik in a workflow', async (t) => {
  for (const source of ['node:fs', 'fs', 'path', 'crypto', 'child_process', 'fs/promises', 'pg', 'slonik']) {
    const code = `import * as probe from '${source}';\nexport const value = probe;\n`;
    t.deepEqual(errors(await lint('workflows/probe.ts', code)), ['no-restricted-imports'], source);
  }
});

test('rejects process and process.env in a workflow', async (t) => {
  t.deepEqual(errors(await lint('workflows/probe.ts', 'export const level = process.env.LOG_LEVEL;\n')), [
    'no-restricted-globals',
    'no-restricted-properties',
  ]);
  t.deepEqual(errors(await lint('workflows/probe.ts', 'export const pid = process.pid;\n')), ['no-restricted-globals']);
});

test('rejects process.env outside config.ts, scripts, tests and benchmarks', async (t) => {
  const code = 'export const level = process.env.LOG_LEVEL;\n';
  t.deepEqual(errors(await lint('api/probe.ts', code)), ['no-restricted-properties']);
  t.deepEqual(errors(await lint('activities/probe.ts', code)), ['no-restricted-properties']);
  for (const allowed of ['config.ts', 'scripts/probe.ts', 'test/probe.ts', 'bench/probe.ts']) {
    t.deepEqual(await lint(allowed, code), [], allowed);
  }
});

test('rejects an import of the rest of Quarry, a node builtin or process in contract/', async (t) => {
  for (const source of ['../config.ts', '../db/queries/documents.ts', '../workflows/shared.ts', 'node:fs', 'pg']) {
    const code = `import * as probe from '${source}';\nexport const value = probe;\n`;
    t.deepEqual(errors(await lint('contract/probe.ts', code)), ['no-restricted-imports'], source);
  }
  t.deepEqual(errors(await lint('contract/probe.ts', 'export const pid = process.pid;\n')), ['no-restricted-globals']);
  const leaf =
    "import { defineSearchAttributeKey } from '@temporalio/common';\nexport const key = defineSearchAttributeKey;\n";
  t.deepEqual(await lint('contract/probe.ts', leaf), []);
});

test('rejects an import of the API, activities, workflows, the workflow client, rag/ or search/ in db/', async (t) => {
  for (const source of [
    '../../api/errors.ts',
    '../../activities/index.ts',
    '../../workflows/shared.ts',
    '../../workflow-client/documents.ts',
    '../../rag/embed/embedder.ts',
    '../../search/service.ts',
  ]) {
    const code = `import * as probe from '${source}';\nexport const value = probe;\n`;
    t.deepEqual(errors(await lint('db/queries/probe.ts', code)), ['no-restricted-imports'], source);
  }
  t.deepEqual(errors(await lint('db/probe.ts', "import { env } from 'node:process';\nexport const e = env;\n")), [
    'no-restricted-imports',
  ]);
  const downward = "import { JOB_KINDS } from '../../contract/jobs.ts';\nexport const kinds = JOB_KINDS;\n";
  t.deepEqual(await lint('db/queries/probe.ts', downward), []);
});

test('keeps rag/ pure and search/ below the API', async (t) => {
  for (const source of [
    '../../db/vector.ts',
    '../../search/service.ts',
    '../../api/errors.ts',
    '../../workflows/shared.ts',
  ]) {
    const code = `import * as probe from '${source}';\nexport const value = probe;\n`;
    t.deepEqual(errors(await lint('rag/embed/probe.ts', code)), ['no-restricted-imports'], source);
  }
  for (const source of ['../api/context.ts', '../activities/index.ts', '../workflows/shared.ts']) {
    const code = `import * as probe from '${source}';\nexport const value = probe;\n`;
    t.deepEqual(errors(await lint('search/probe.ts', code)), ['no-restricted-imports'], source);
  }
  const allowed =
    "import { denseSearch } from '../db/queries/search/dense.ts';\n" +
    "import { reciprocalRankFusion } from '../rag/retrieve/rrf.ts';\n" +
    'export const parts = [denseSearch, reciprocalRankFusion];\n';
  t.deepEqual(await lint('search/probe.ts', allowed), []);
  const sibling = "import { RagError } from '../errors.ts';\nexport const e = RagError;\n";
  t.deepEqual(await lint('rag/embed/probe.ts', sibling), []);
});

test('requires type-only imports for names used only as types', async (t) => {
  const code = "import { Config } from '../config.ts';\nexport type Settings = Config;\n";
  t.deepEqual(errors(await lint('api/probe.ts', code)), ['@typescript-eslint/consistent-type-imports']);
});

test('turns the promise rules on as errors for every TypeScript file', async (t) => {
  for (const file of ['api/app.ts', 'workflows/probe.ts', 'scripts/probe.ts', 'test/probe.test.ts']) {
    const { rules } = (await configOnly.calculateConfigForFile(file)) as { rules: Record<string, unknown[]> };
    for (const rule of ['@typescript-eslint/no-floating-promises', '@typescript-eslint/no-misused-promises']) {
      t.is(rules[rule]?.[0], 2, `${rule} in ${file}`);
    }
  }
});
