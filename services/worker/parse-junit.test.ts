import { TestCaseStatus } from '../../libs/gen/dtf/common/v1/common_pb';
import { parseJunit } from './parse-junit';

const report = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="jest tests" tests="5">
  <testsuite name="math.test.ts" tests="4" time="0.5">
    <testcase classname="math add" name="adds" time="0.01"/>
    <testcase classname="math sub" name="subtracts" time="1,234.5">
      <failure message="expected 1 to be 2" type="AssertionError">at math.test.ts:3</failure>
    </testcase>
    <testcase classname="math div" name="divides" time="x">
      <error><![CDATA[TypeError: boom
    at div]]></error>
    </testcase>
    <testcase classname="math mul" name="multiplies"><skipped message="not yet"/></testcase>
  </testsuite>
  <testsuite name="outer">
    <testsuite name="inner">
      <testcase classname="c" name="deep"><skipped/></testcase>
    </testsuite>
  </testsuite>
</testsuites>`;

describe('parseJunit', () => {
  it('reads statuses, times, messages and nested suites from <testsuites>', () => {
    const cases = parseJunit(report);
    expect(cases.map((c) => [c.suite, c.classname, c.name, c.status, c.durationSeconds, c.message])).toEqual([
      ['math.test.ts', 'math add', 'adds', TestCaseStatus.PASSED, 0.01, ''],
      ['math.test.ts', 'math sub', 'subtracts', TestCaseStatus.FAILED, 1234.5, 'expected 1 to be 2'],
      ['math.test.ts', 'math div', 'divides', TestCaseStatus.ERRORED, 0, 'TypeError: boom\n    at div'],
      ['math.test.ts', 'math mul', 'multiplies', TestCaseStatus.SKIPPED, 0, 'not yet'],
      ['outer/inner', 'c', 'deep', TestCaseStatus.SKIPPED, 0, ''],
    ]);
  });

  it('reads a bare <testsuite> and takes failure text when there is no message attribute', () => {
    const cases = parseJunit('<testsuite name="s"><testcase name="t" time="2"><failure>assert x == 1</failure></testcase></testsuite>');
    expect(cases).toHaveLength(1);
    expect(cases[0].suite).toBe('s');
    expect(cases[0].status).toBe(TestCaseStatus.FAILED);
    expect(cases[0].durationSeconds).toBe(2);
    expect(cases[0].message).toBe('assert x == 1');
  });

  it('prefers <error> when a case has both error and failure', () => {
    const [c] = parseJunit('<testsuite><testcase name="t"><failure message="f"/><error message="e"/></testcase></testsuite>');
    expect(c.status).toBe(TestCaseStatus.ERRORED);
    expect(c.message).toBe('e');
  });

  it('returns no cases for empty reports', () => {
    expect(parseJunit('<testsuites/>')).toEqual([]);
    expect(parseJunit('<testsuites></testsuites>')).toEqual([]);
    expect(parseJunit('<testsuite name="empty"/>')).toEqual([]);
  });

  it('decodes entities in names and messages', () => {
    const [c] = parseJunit('<testsuite><testcase name="a &lt; b"><failure message="&quot;x&quot; &amp; y"/></testcase></testsuite>');
    expect(c.name).toBe('a < b');
    expect(c.message).toBe('"x" & y');
  });

  it('cuts long messages to 4 KiB', () => {
    const [c] = parseJunit(`<testsuite><testcase name="t"><failure message="${'é'.repeat(3000)}"/></testcase></testsuite>`);
    expect(Buffer.byteLength(c.message)).toBeLessThanOrEqual(4096);
    expect(c.message).toBe('é'.repeat(2048));
  });

  it('keeps at most testCasesMax cases and says how many there were', () => {
    const xml = `<testsuite>${'<testcase name="t"/>'.repeat(12)}</testsuite>`;
    let total = 0;
    const cases = parseJunit(xml, { testCasesMax: 10, onTruncated: (n) => (total = n) });
    expect(cases).toHaveLength(10);
    expect(total).toBe(12);
  });

  it('throws a clear error on malformed XML, with the line', () => {
    expect(() => parseJunit('<testsuite>\n<testcase name="t">\n</testsuite>')).toThrow(/^malformed XML at line \d+, column \d+: /);
    expect(() => parseJunit('not xml at all')).toThrow('malformed XML');
  });

  it('rejects XML that is not a JUnit report', () => {
    expect(() => parseJunit('<html><body/></html>')).toThrow('not a JUnit report');
  });
});
