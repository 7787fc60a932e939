import { create } from '@bufbuild/protobuf';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { TaskSpec } from '../gen/dtf/common/v1/common_pb';
import { SubmitJobRequestSchema, type SubmitJobRequest } from '../gen/dtf/scheduler/v1/scheduler_service_pb';
import { buildRequirements, mergeDefaults, TaskBuilder, type RawTaskFields } from './build-task';
import { combineMatrices, emptyMatrix, expandMatrix, matrixSizeBound, readMatrix, type Matrix } from './matrix';
import { schemaIssues } from './schema-issues';
import { SuiteError, type SuiteIssue } from './suite-error';
import { YamlLocator } from './yaml-locator';

/** A suite expands to at most this many tasks; past it, the file is refused before expanding. */
export const taskCountMax = 10_000;
/** Suite files are hand-written; anything larger is a mistake (or an attack on the parser). */
export const suiteBytesMax = 1024 * 1024;
/** YAML aliases can multiply a small file into a huge value; real suites need few. */
const aliasCountMax = 100;

/** A parsed, validated and expanded suite: one job's worth of task specs. */
export interface SuiteDocument {
  /** The file name as given, used in error messages. */
  fileName: string;
  /** Absolute directory of the suite file: the value of the `{suite_dir}` placeholder. */
  suiteDir: string;
  /** The job name. */
  name: string;
  /** Job labels (`labels:`), e.g. branch or commit for CI. */
  labels: Record<string, string>;
  /** Tasks after defaults and matrix expansion, in file order then matrix order. */
  tasks: TaskSpec[];
}

/** The plain data of a suite file after schema validation. */
interface RawSuite {
  name: string;
  labels?: Record<string, unknown>;
  defaults?: RawTaskFields;
  matrix?: unknown;
  tasks: RawTaskFields[];
}

/**
 * Parses a suite file's text into task specs. `fileName` names the file in
 * errors and locates `{suite_dir}` (resolved against the current directory
 * when relative). Throws a {@link SuiteError} listing every problem found:
 * YAML syntax, schema violations, unknown placeholders, duplicate task names
 * after expansion, and a matrix past {@link taskCountMax}.
 */
export function parseSuite(text: string, fileName: string): SuiteDocument {
  const lineCounter = new LineCounter();
  if (text.length > suiteBytesMax) {
    throw new SuiteError([{ file: fileName, line: 1, column: 1, path: '', message: `file is larger than ${suiteBytesMax} bytes; split it` }]);
  }
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const locator = new YamlLocator(fileName, doc, lineCounter);
  const data = toPlainData(doc, locator);
  const issues = schemaIssues(data, doc, locator);
  if (issues.length > 0) throw new SuiteError(issues);
  const raw = data as RawSuite;
  const suiteDir = resolve(dirname(fileName));
  const tasks = expandTasks(raw, new TaskBuilder(locator, issues, { suite_dir: suiteDir }), locator, issues);
  if (issues.length > 0) throw new SuiteError(issues);
  const labels = Object.fromEntries(Object.entries(raw.labels ?? {}).map(([k, v]) => [k, String(v)]));
  return { fileName, suiteDir, name: raw.name, labels, tasks };
}

/**
 * The request that submits a parsed suite as one job. An idempotency key
 * (e.g. a CI run id) makes a retried submission return the first job.
 */
export function suiteToSubmitRequest(doc: SuiteDocument, opts: { idempotencyKey?: string } = {}): SubmitJobRequest {
  return create(SubmitJobRequestSchema, {
    name: doc.name,
    idempotencyKey: opts.idempotencyKey ?? '',
    tasks: doc.tasks,
    labels: doc.labels,
  });
}

function toPlainData(doc: Document, locator: YamlLocator): unknown {
  const issues = [...doc.errors].map((e) => locator.issueAt(e.pos[0], `${firstLine(e.message)}; fix the YAML syntax here`));
  if (issues.length > 0) throw new SuiteError(issues);
  try {
    return doc.toJS({ maxAliasCount: aliasCountMax });
  } catch (err) {
    throw new SuiteError([locator.issueAt(0, `${firstLine((err as Error).message)}`)]);
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}

/** Expands every task over its matrix; problems are pushed onto `issues`. */
function expandTasks(raw: RawSuite, builder: TaskBuilder, locator: YamlLocator, issues: SuiteIssue[]): TaskSpec[] {
  const suiteMatrix = raw.matrix === undefined ? emptyMatrix : readMatrix(raw.matrix);
  const names = new Map<string, { index: number; line: number }>();
  const out: TaskSpec[] = [];
  for (const [index, source] of raw.tasks.entries()) {
    const matrix = combineMatrices(suiteMatrix, readMatrix(source.matrix));
    if (!withinBound(out.length, matrix, index, locator, issues)) break;
    const task = mergeDefaults(raw.defaults ?? {}, source);
    const requirements = buildRequirements(task.requires ?? {});
    const line = locator.issue(['tasks', index, 'name'], '').line;
    for (const combo of expandMatrix(matrix)) {
      const spec = builder.build(index, task, requirements, combo);
      const first = names.get(spec.name);
      if (first) {
        issues.push(locator.issue(['tasks', index, 'name'], duplicateMessage(spec.name, first, combo)));
      } else {
        names.set(spec.name, { index, line });
      }
      out.push(spec);
    }
  }
  return out;
}

function withinBound(count: number, matrix: Matrix, index: number, locator: YamlLocator, issues: SuiteIssue[]): boolean {
  const size = matrixSizeBound(matrix);
  if (count + size <= taskCountMax) return true;
  issues.push(locator.issue(['tasks', index],
    `expands to ${count + size} tasks or more counting the tasks before it; a suite may have at most ${taskCountMax}: shrink the matrix or split the suite`));
  return false;
}

function duplicateMessage(name: string, first: { index: number; line: number }, combo: Record<string, string>): string {
  const values = Object.entries(combo).map(([k, v]) => `${k}=${v}`).join(', ');
  const from = values ? ` (matrix ${values})` : '';
  return `task name ${JSON.stringify(name)}${from} is also the name of a task from tasks[${first.index}] (line ${first.line}); ` +
    'names must be unique after matrix expansion: add {placeholders} for the matrix values to the name';
}
