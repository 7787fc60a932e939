import { open } from 'node:fs/promises';
import path from 'node:path';
import type { Metric, TestCase } from '../../libs/gen/dtf/common/v1/common_pb';
import { parseJunit, testCasesMax } from './parse-junit';
import { parseMetrics } from './parse-metrics';

/** The JUnit report a task may leave in $DTF_OUTPUT_DIR. */
export const junitFileName = 'junit.xml';
/** The benchmark figures a task may leave in $DTF_OUTPUT_DIR. */
export const metricsFileName = 'metrics.json';
/** Larger JUnit files are not read: parsing them would stall the worker. */
export const junitBytesMax = 32 * 1024 * 1024;
/** Larger metrics files are not read; 1,000 metrics fit in far less. */
export const metricsBytesMax = 1024 * 1024;

/** What a task left behind in its output directory. */
export interface TaskOutput {
  testCases: TestCase[];
  metrics: Metric[];
  /** One line per file that could not be read, naming the file and what to fix. */
  problems: string[];
}

/**
 * Reads junit.xml and metrics.json from a finished attempt's output directory. Either file
 * may be absent. A file that cannot be read or parsed becomes a line in `problems` instead
 * of an exception, because a broken report must not hide the exit code of the run.
 */
export async function readTaskOutput(outputDir: string): Promise<TaskOutput> {
  const out: TaskOutput = { testCases: [], metrics: [], problems: [] };
  const junit = await readBounded(path.join(outputDir, junitFileName), junitBytesMax, out.problems);
  if (junit !== undefined) {
    try {
      out.testCases = parseJunit(junit, {
        onTruncated: (total) =>
          out.problems.push(`$DTF_OUTPUT_DIR/${junitFileName}: has ${total} test cases; kept the first ${testCasesMax}`),
      });
    } catch (err) {
      out.problems.push(`$DTF_OUTPUT_DIR/${junitFileName}: ${(err as Error).message}; fix the JUnit XML the task writes there`);
    }
  }
  const metrics = await readBounded(path.join(outputDir, metricsFileName), metricsBytesMax, out.problems);
  if (metrics !== undefined) {
    try {
      out.metrics = parseMetrics(metrics);
    } catch (err) {
      out.problems.push(`$DTF_OUTPUT_DIR/${metricsFileName}: ${(err as Error).message}; fix the metrics JSON the task writes there`);
    }
  }
  return out;
}

/** The file's text, or undefined when it is absent or unreadable (then a problem is noted). */
async function readBounded(file: string, bytesMax: number, problems: string[]): Promise<string | undefined> {
  const name = `$DTF_OUTPUT_DIR/${path.basename(file)}`;
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    problems.push(`${name}: cannot open: ${(err as Error).message}`);
    return undefined;
  }
  try {
    const { size } = await handle.stat();
    if (size > bytesMax) {
      problems.push(`${name}: is ${size} bytes, more than the ${bytesMax} read; write a smaller file`);
      return undefined;
    }
    return await handle.readFile('utf8');
  } catch (err) {
    problems.push(`${name}: cannot read: ${(err as Error).message}`);
    return undefined;
  } finally {
    await handle.close();
  }
}
