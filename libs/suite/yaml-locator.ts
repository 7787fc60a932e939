import { isMap, isPair, isScalar, isSeq, LineCounter, type Document, type Node } from 'yaml';
import type { SuiteIssue } from './suite-error';

/** A path into the parsed document: object keys and array indexes. */
export type FieldPath = readonly (string | number)[];

/** Writes a path the way the file reads: `tasks[3].requires.gpu_memory`. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg;
  return out;
}

/** Splits an ajv instancePath (`/tasks/3/requires`) into segments, numbers for indexes into arrays. */
export function splitPointer(doc: Document, pointer: string): FieldPath {
  if (!pointer) return [];
  const segments: (string | number)[] = [];
  let node: unknown = doc.contents;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const asIndex = isSeq(node) ? Number(seg) : NaN;
    segments.push(Number.isInteger(asIndex) ? asIndex : seg);
    node = isSeq(node) || isMap(node) ? node.get(Number.isInteger(asIndex) ? asIndex : seg, true) : undefined;
  }
  return segments;
}

/**
 * Maps paths in a parsed YAML document back to lines and columns, so errors
 * found on the plain data (schema, matrix expansion) point into the file.
 */
export class YamlLocator {
  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /**
   * An issue at `path`. With `key`, points at that key inside the object
   * (an unknown field); otherwise at the deepest node of the path that exists.
   */
  issue(path: FieldPath, message: string, key?: string): SuiteIssue {
    const fullPath = key === undefined ? path : [...path, key];
    const offset = this.offsetOf(path, key);
    const pos = this.lines.linePos(offset);
    return { file: this.file, line: pos.line, column: pos.col, path: formatPath(fullPath), message };
  }

  /** An issue at a raw character offset (YAML syntax errors). */
  issueAt(offset: number, message: string): SuiteIssue {
    const pos = this.lines.linePos(offset);
    return { file: this.file, line: pos.line, column: pos.col, path: '', message };
  }

  private offsetOf(path: FieldPath, key?: string): number {
    let node: Node | null | undefined = this.doc.contents;
    let offset = node?.range?.[0] ?? 0;
    for (const seg of path) {
      const next: unknown = isMap(node) || isSeq(node) ? node.get(seg, true) : undefined;
      if (!next || !(next as Node).range) break;
      node = next as Node;
      offset = node.range?.[0] ?? offset;
    }
    if (key !== undefined && isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
      const keyNode = pair && isScalar(pair.key) ? pair.key : undefined;
      if (keyNode?.range) offset = keyNode.range[0];
    }
    return offset;
  }
}
