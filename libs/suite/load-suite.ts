import { readFile, stat } from 'node:fs/promises';
import { parseSuite, suiteBytesMax, type ParseSuiteOptions, type SuiteDocument } from './parse-suite';
import { SuiteError } from './suite-error';

/**
 * Reads and parses a suite file. The size is checked before reading so a
 * wrong path to a huge file fails fast with a clear error. Pass `nowMs` (the
 * submission time) when the suite may hold deadlines.
 */
export async function loadSuite(filePath: string, opts: ParseSuiteOptions = {}): Promise<SuiteDocument> {
  const { size } = await stat(filePath);
  if (size > suiteBytesMax) {
    throw new SuiteError([{ file: filePath, line: 1, column: 1, path: '', message: `file is ${size} bytes; a suite file may be at most ${suiteBytesMax}` }]);
  }
  return parseSuite(await readFile(filePath, 'utf8'), filePath, opts);
}
