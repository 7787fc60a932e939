import { create } from '@bufbuild/protobuf';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { TaskSpec } from '../gen/dtf/common/v1/common_pb';
import { SubmitJobRequestSchema, type SubmitJobRequest } from '../gen/dtf/scheduler/v1/scheduler_service_pb';
import { buildRequirements, mergeDefaults, TaskBuilder, type RawTaskFields } from './build-task';
import { combineMatrices, emptyMatrix, expandMatrix, matrixSizeBound, readMatrix, type Matrix } from './matrix';
import { resolveDependencies, type ExpandedTask, type SourceDependencies } from './resolve-dependencies';
import { schemaIssues } from './schema-issues';
import { SuiteError, type SuiteIssue } from './suite-error';
import { TimingBuilder } from './timing-fields';
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
  /** The tenant the job is accounted to (`tenant:`); empty: the default tenant. */
  tenant: string;
  /** Tasks after defaults and matrix expansion, in file order then matrix order. */
  tasks: TaskSpec[];
}

/** What parsing needs from outside the text. */
export interface ParseSuiteOptions {
  /**
   * The submission time (Unix ms) that relative deadlines (`deadline: 30m`)
   * count from. Only a suite with a deadline needs it; the parser never reads
   * the clock itself.
   */
  nowMs?: number;
}

/** The plain data of a suite file after schema validation. */
interface RawSuite {
  name: string;
  tenant?: string;
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
 * after expansion, a matrix past {@link taskCountMax}, `depends_on` names that
 * match no task, and dependency cycles.
 */
export function parseSuite(text: string, fileName: string, opts: ParseSuiteOptions = {}): SuiteDocument {
  const lineCounter = new LineCounter();
  if (text.length > suiteBytesMax) {
    throw new SuiteError([{ file: fileName, line: 1, column: 1, path: '', message: `file is larger than ${suiteBytesMax} bytes; split it` }]);
  }
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const locator = new YamlLocator(fileName, doc, lineCounter);
  const data = toPlainData(doc, locator, text);
  const issues = schemaIssues(data, doc, locator);
  if (issues.length > 0) throw new SuiteError(issues);
  const raw = data as RawSuite;
  const suiteDir = resolve(dirname(fileName));
  const builtins = { suite_dir: suiteDir };
  const builders = { task: new TaskBuilder(locator, issues, builtins), timing: new TimingBuilder(locator, issues, opts.nowMs) };
  const { expanded, sources } = expandTasks(raw, builders, locator, issues);
  resolveDependencies(expanded, sources, builtins, locator, issues);
  if (issues.length > 0) throw new SuiteError(issues);
  const labels = Object.fromEntries(Object.entries(raw.labels ?? {}).map(([k, v]) => [k, String(v)]));
  return { fileName, suiteDir, name: raw.name, labels, tenant: raw.tenant ?? '', tasks: expanded.map((e) => e.spec) };
}

/** How a submission may differ from the file: set by the submitter, not the suite. */
export interface SubmitOptions {
  /** E.g. a CI run id: a retried submission with the same key returns the first job. */
  idempotencyKey?: string;
  /** Overrides the suite's `tenant:` when set (and not empty). */
  tenant?: string;
}

/** The request that submits a parsed suite as one job. */
export function suiteToSubmitRequest(doc: SuiteDocument, opts: SubmitOptions = {}): SubmitJobRequest {
  return create(SubmitJobRequestSchema, {
    name: doc.name,
    idempotencyKey: opts.idempotencyKey ?? '',
    tasks: doc.tasks,
    labels: doc.labels,
    tenant: opts.tenant || doc.tenant,
  });
}

function toPlainData(doc: Document, locator: YamlLocator, text: string): unknown {
  const issues = [...doc.errors].map((e) => {
    const issue = locator.issueAt(e.pos[0], `${firstLine(e.message)}; fix the YAML syntax here`);
    // In YAML, "{" inside [ ] opens a mapping: `depends_on: [build-{os}]` is the usual slip.
    const line = text.split('\n', issue.line)[issue.line - 1] ?? '';
    if (/\[[^\]"']*\{/.test(line)) issue.message += ' (inside [ ], quote names with {placeholders}: ["build-{os}"])';
    return issue;
  });
  // A selector such as `- !spot` reads as a YAML tag on an empty value; say so rather than "empty".
  for (const w of doc.warnings) {
    if (w.code !== 'TAG_RESOLVE_FAILED') continue;
    const tag = text.slice(w.pos[0], w.pos[1]);
    issues.push(locator.issueAt(w.pos[0], `${tag} is read as a YAML tag, not as text; quote it: "${tag}"`));
  }
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

/**
 * Expands every task over its matrix; problems are pushed onto `issues`.
 * Returns the expanded tasks and, per source task, its `depends_on` as written.
 */
function expandTasks(
  raw: RawSuite,
  builders: { task: TaskBuilder; timing: TimingBuilder },
  locator: YamlLocator,
  issues: SuiteIssue[],
): { expanded: ExpandedTask[]; sources: SourceDependencies[] } {
  const suiteMatrix = raw.matrix === undefined ? emptyMatrix : readMatrix(raw.matrix);
  const names = new Map<string, { index: number; line: number }>();
  const expanded: ExpandedTask[] = [];
  const sources: SourceDependencies[] = [];
  for (const [index, source] of raw.tasks.entries()) {
    const matrix = combineMatrices(suiteMatrix, readMatrix(source.matrix));
    if (!withinBound(expanded.length, matrix, index, locator, issues)) break;
    const task = mergeDefaults(raw.defaults ?? {}, source);
    const requirements = buildRequirements(task.requires ?? {});
    const timing = builders.timing.build(index, source, task);
    sources.push({
      template: source.name ?? '',
      dependsOn: task.depends_on ?? [],
      path: source.depends_on !== undefined ? ['tasks', index, 'depends_on'] : ['defaults', 'depends_on'],
    });
    const line = locator.issue(['tasks', index, 'name'], '').line;
    for (const combo of expandMatrix(matrix)) {
      const spec = builders.task.build(index, task, requirements, timing, combo);
      const first = names.get(spec.name);
      if (first) {
        issues.push(locator.issue(['tasks', index, 'name'], duplicateMessage(spec.name, first, combo)));
      } else {
        names.set(spec.name, { index, line });
      }
      expanded.push({ spec, index, combo });
    }
  }
  return { expanded, sources };
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
