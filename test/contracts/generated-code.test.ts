import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const buf = path.join(root, 'node_modules/.bin/buf');

function files(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe('contracts', () => {
  it('committed generated code is what `npm run gen` produces', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dtf-gen-'));
    const template = fs.readFileSync(path.join(root, 'buf.gen.yaml'), 'utf8').replace(/out: libs\/gen/, `out: ${out}`);
    expect(template).toContain(out);
    const templateFile = path.join(out, '..', `${path.basename(out)}.gen.yaml`);
    fs.writeFileSync(templateFile, template);
    execFileSync(buf, ['generate', '--template', templateFile], { cwd: root, env: { ...process.env, PATH: `${path.join(root, 'node_modules/.bin')}:${process.env.PATH}` } });
    const committed = path.join(root, 'libs/gen');
    expect(files(out)).toEqual(files(committed));
    for (const f of files(out)) {
      expect({ file: f, text: fs.readFileSync(path.join(out, f), 'utf8') }).toEqual({ file: f, text: fs.readFileSync(path.join(committed, f), 'utf8') });
    }
    fs.rmSync(out, { recursive: true, force: true });
    fs.rmSync(templateFile, { force: true });
  });

  it('passes buf lint (STANDARD)', () => {
    expect(() => execFileSync(buf, ['lint'], { cwd: root, stdio: 'pipe' })).not.toThrow();
  });
});
