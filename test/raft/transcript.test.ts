/** Runs every golden transcript under testdata/; UPDATE_GOLDEN=1 rewrites them. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runTranscript } from './datadriven';
import { InteractionEnv } from './interaction-env';

const dir = path.join(__dirname, 'testdata');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();

describe('raft transcripts', () => {
  test.each(files)('%s', (file) => {
    const env = new InteractionEnv();
    const results = runTranscript(path.join(dir, file), (cmd) => env.run(cmd));
    if (process.env.UPDATE_GOLDEN === '1') return; // Just rewritten; review the diff.
    for (const r of results) {
      // Compare one case at a time so a failure names its line.
      expect(`${file}:${r.line} ${r.command}\n${r.actual}`).toBe(`${file}:${r.line} ${r.command}\n${r.expected}`);
    }
  });
});
