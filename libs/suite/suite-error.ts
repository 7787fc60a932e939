/** One problem found in a suite file, located for a person to fix. */
export interface SuiteIssue {
  /** The file name as given to the parser. */
  file: string;
  /** 1-based line and column of the offending node (of the parent object for a missing field). */
  line: number;
  column: number;
  /** The field, written as in the file: `tasks[3].requires.gpu_memory`; empty for the whole file. */
  path: string;
  /** What is wrong and what to do about it. */
  message: string;
}

/** A suite file reports at most this many issues; the rest are counted, not listed. */
export const issuesListedMax = 50;

/** Formats one issue as `file:line:column: path: message`, the shape editors and CI logs link. */
export function formatIssue(issue: SuiteIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

/**
 * Everything wrong with a suite file, found in one pass so a person fixes it
 * in one go. The message lists every issue, one per line, in file order.
 */
export class SuiteError extends Error {
  readonly issues: SuiteIssue[];

  constructor(issues: SuiteIssue[]) {
    const sorted = [...issues].sort((a, b) => a.line - b.line || a.column - b.column);
    const listed = sorted.slice(0, issuesListedMax).map(formatIssue);
    if (sorted.length > issuesListedMax) listed.push(`… and ${sorted.length - issuesListedMax} more issues`);
    super(listed.join('\n'));
    this.name = 'SuiteError';
    this.issues = sorted;
  }
}
