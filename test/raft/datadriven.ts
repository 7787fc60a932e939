/**
 * A tiny data-driven test format after etcd-io/raft's testdata: each case is
 * a command line, a `----` line, and the expected output up to a blank line.
 * Lines starting with `#` before a command are comments.
 */
import * as fs from 'node:fs';

/** One command of a transcript with its expected output. */
export interface Case {
  comments: string[];
  command: string;
  expected: string;
  line: number;
}

export function parseTranscript(text: string): Case[] {
  const lines = text.split('\n');
  const cases: Case[] = [];
  let comments: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      comments.push(line);
      continue;
    }
    const start = i + 1;
    if (lines[i + 1] !== '----') throw new Error(`transcript line ${start}: expected "----" after "${line}"`);
    i += 2;
    const out: string[] = [];
    while (i < lines.length && lines[i] !== '') out.push(lines[i++]);
    cases.push({ comments, command: line, expected: out.join('\n'), line: start });
    comments = [];
  }
  return cases;
}

export function formatTranscript(cases: { comments: string[]; command: string; actual: string }[]): string {
  return cases.map((c) => [...c.comments, c.command, '----', c.actual || 'ok'].join('\n')).join('\n\n') + '\n';
}

/** Runs every case through `run`; rewrites the file when UPDATE_GOLDEN=1. */
export function runTranscript(path: string, run: (command: string) => string): { line: number; command: string; expected: string; actual: string }[] {
  const cases = parseTranscript(fs.readFileSync(path, 'utf8'));
  const results = cases.map((c) => {
    const actual = run(c.command).replace(/\n+$/, '').replace(/\n\n+/g, '\n') || 'ok';
    return { ...c, actual };
  });
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(path, formatTranscript(results));
  return results;
}
