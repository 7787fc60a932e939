#!/usr/bin/env node
// Runs one shard of a small, deterministic fake test suite and writes JUnit XML
// to $DTF_OUTPUT_DIR/junit.xml (the current directory when unset), where the
// DTF worker picks it up. Usage: node run-shard.js <shard> <shardCount>
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');

/** Each test checks something that is always true and takes 50-300 ms, so shards take visible time. */
const tests = [
  ['math', 'adds small integers', () => 2 + 2 === 4],
  ['math', 'multiplies', () => 6 * 7 === 42],
  ['math', 'integer division floors', () => Math.floor(7 / 2) === 3],
  ['math', 'powers of two', () => 2 ** 10 === 1024],
  ['math', 'float rounding', () => Math.abs(0.1 + 0.2 - 0.3) < 1e-9],
  ['strings', 'concatenates', () => 'a' + 'b' === 'ab'],
  ['strings', 'upper-cases', () => 'dtf'.toUpperCase() === 'DTF'],
  ['strings', 'splits and joins', () => 'a,b,c'.split(',').join('-') === 'a-b-c'],
  ['strings', 'pads', () => '7'.padStart(3, '0') === '007'],
  ['arrays', 'sorts numbers', () => [3, 1, 2].sort((a, b) => a - b).join() === '1,2,3'],
  ['arrays', 'reduces', () => [1, 2, 3, 4].reduce((s, x) => s + x, 0) === 10],
  ['arrays', 'finds', () => [5, 8, 13].find((x) => x > 6) === 8],
];

function durationMs(index) {
  return 50 + ((index * 97) % 251);
}

function escapeXml(text) {
  return String(text).replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]);
}

function junitXml(results, shard, total) {
  const seconds = results.reduce((s, r) => s + r.seconds, 0);
  const failures = results.filter((r) => !r.passed).length;
  const cases = results.map((r) => {
    const open = `    <testcase classname="${escapeXml(r.classname)}" name="${escapeXml(r.name)}" time="${r.seconds.toFixed(3)}"`;
    return r.passed ? `${open}/>` : `${open}>\n      <failure message="assertion failed"/>\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites tests="${results.length}" failures="${failures}" time="${seconds.toFixed(3)}">`,
    `  <testsuite name="unit-shard-${shard}-of-${total}" tests="${results.length}" failures="${failures}" time="${seconds.toFixed(3)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

async function main() {
  const shard = Number(process.argv[2]);
  const total = Number(process.argv[3]);
  if (!Number.isInteger(shard) || !Number.isInteger(total) || shard < 1 || shard > total) {
    console.error('usage: node run-shard.js <shard 1..N> <N>');
    process.exit(2);
  }
  const mine = tests.map((t, i) => [i, ...t]).filter(([i]) => i % total === shard - 1);
  console.log(`shard ${shard}/${total}: ${mine.length} tests`);
  const results = [];
  for (const [index, classname, name, check] of mine) {
    const started = Date.now();
    await sleep(durationMs(index));
    const passed = check();
    const seconds = (Date.now() - started) / 1000;
    results.push({ classname, name, passed, seconds });
    console.log(`  ${passed ? 'ok  ' : 'FAIL'} ${classname} › ${name} (${Math.round(seconds * 1000)} ms)`);
  }
  const outDir = process.env.DTF_OUTPUT_DIR || process.cwd();
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'junit.xml'), junitXml(results, shard, total));
  const failed = results.filter((r) => !r.passed).length;
  console.log(`shard ${shard}/${total}: ${results.length - failed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

main();
