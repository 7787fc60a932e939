import { create } from '@bufbuild/protobuf';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { TestCaseSchema, TestCaseStatus, type TestCase } from '../../libs/gen/dtf/common/v1/common_pb';
import { truncateUtf8 } from './truncate-utf8';

/** Test cases kept from one report; a result carries them all, so this bounds its size. */
export const testCasesMax = 10_000;
/** Longest failure, error or skip message kept, in UTF-8 bytes. */
export const messageBytesMax = 4 * 1024;
/** Deepest nesting of `<testsuite>` elements followed. */
export const suiteDepthMax = 64;

/** Options for {@link parseJunit}. */
export interface ParseJunitOptions {
  /** Defaults to {@link testCasesMax}. */
  testCasesMax?: number;
  /** Called once when the report has more test cases than kept, with how many it has. */
  onTruncated?: (testCasesTotal: number) => void;
}

type XmlNode = Record<string, unknown>;

// Elements that may repeat are always arrays, so the walker never guesses.
const repeated = new Set(['testsuite', 'testcase', 'failure', 'error', 'skipped']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  textNodeName: '#text',
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => repeated.has(name),
});

/**
 * Reads JUnit XML (`<testsuites>` or a bare `<testsuite>`, suites nested to any depth up to
 * {@link suiteDepthMax}) into test cases.
 *
 * A case's status is ERRORED if it has `<error>`, else FAILED with `<failure>`, else SKIPPED
 * with `<skipped>`, else PASSED. Its message is the element's `message` attribute, or its
 * text when there is none, cut to {@link messageBytesMax}. Nested suite names are joined with
 * "/" so that cases from different files stay apart. Throws an Error with the line and column
 * when the XML is malformed.
 */
export function parseJunit(xml: string, opts: ParseJunitOptions = {}): TestCase[] {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    const { line, col, msg } = valid.err;
    throw new Error(`malformed XML at line ${line}, column ${col}: ${msg}`);
  }
  const doc = parser.parse(xml) as XmlNode;
  const walker = new Walker(opts.testCasesMax ?? testCasesMax);
  const root = asNode(doc['testsuites']);
  if (root) {
    walker.cases(root, '');
    walker.suites(root, '', 1);
  } else if (doc['testsuite'] !== undefined) {
    walker.suites(doc, '', 1);
  } else {
    throw new Error('not a JUnit report: the root element is neither <testsuites> nor <testsuite>');
  }
  if (walker.total > walker.out.length) opts.onTruncated?.(walker.total);
  return walker.out;
}

class Walker {
  readonly out: TestCase[] = [];
  total = 0;

  constructor(private readonly max: number) {}

  suites(parent: XmlNode, path: string, depth: number): void {
    if (depth > suiteDepthMax) {
      throw new Error(`<testsuite> elements are nested more than ${suiteDepthMax} deep`);
    }
    for (const suite of asNodes(parent['testsuite'])) {
      const name = text(suite['@name']);
      const suitePath = path && name ? `${path}/${name}` : path || name;
      this.cases(suite, suitePath);
      this.suites(suite, suitePath, depth + 1);
    }
  }

  cases(suite: XmlNode, suitePath: string): void {
    for (const tc of asNodes(suite['testcase'])) {
      this.total++;
      if (this.out.length < this.max) this.out.push(toTestCase(tc, suitePath));
    }
  }
}

function toTestCase(tc: XmlNode, suite: string): TestCase {
  const [status, detail] = statusOf(tc);
  return create(TestCaseSchema, {
    suite,
    classname: text(tc['@classname']),
    name: text(tc['@name']),
    status,
    durationSeconds: seconds(tc['@time']),
    message: detail === undefined ? '' : truncateUtf8(messageOf(detail), messageBytesMax),
  });
}

function statusOf(tc: XmlNode): [TestCaseStatus, unknown] {
  if (tc['error'] !== undefined) return [TestCaseStatus.ERRORED, firstOf(tc['error'])];
  if (tc['failure'] !== undefined) return [TestCaseStatus.FAILED, firstOf(tc['failure'])];
  if (tc['skipped'] !== undefined) return [TestCaseStatus.SKIPPED, firstOf(tc['skipped'])];
  return [TestCaseStatus.PASSED, undefined];
}

function messageOf(detail: unknown): string {
  const node = asNode(detail);
  if (!node) return text(detail);
  return text(node['@message']) || text(node['#text']);
}

/** JUnit writers disagree on number format ("1,234.5" appears); anything unreadable is 0. */
function seconds(value: unknown): number {
  const n = Number.parseFloat(text(value).replace(/,/g, ''));
  return Number.isFinite(n) && n >= 0 ? n : 0;
}

function firstOf(value: unknown): unknown {
  return Array.isArray(value) ? value[0] : value;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

function asNode(value: unknown): XmlNode | undefined {
  // An empty element (<testsuites/>) parses as "", which is a node with nothing in it.
  if (value === '') return {};
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as XmlNode) : undefined;
}

function asNodes(value: unknown): XmlNode[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map(asNode).filter((n): n is XmlNode => n !== undefined);
}
