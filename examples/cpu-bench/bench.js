#!/usr/bin/env node
// Times a CPU workload a few times and writes $DTF_OUTPUT_DIR/metrics.json
// (the current directory when unset). Usage: node bench.js <sort|hash> <size>
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/** Timed runs after one warm-up; the median of few runs is stable enough for an example. */
const runs = 5;
const sizeMax = 10_000_000;

/** A seeded linear congruential generator: the same input every run, on every machine. */
function randomInts(count, seed) {
  const out = new Float64Array(count);
  let x = seed >>> 0;
  for (let i = 0; i < count; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x;
  }
  return out;
}

const workloads = {
  /** Sorts `size` numbers. */
  sort(size) {
    const input = randomInts(size, 42);
    return () => {
      const copy = input.slice();
      copy.sort();
      return copy[0];
    };
  },
  /** Inserts `size` string keys into a hash map, then looks each one up. */
  hash(size) {
    const keys = Array.from(randomInts(size, 7), (x) => `k${x}`);
    return () => {
      const map = new Map();
      for (let i = 0; i < keys.length; i++) map.set(keys[i], i);
      let sum = 0;
      for (let i = 0; i < keys.length; i++) sum += map.get(keys[i]);
      return sum;
    };
  },
};

function main() {
  const [algorithm, sizeText] = process.argv.slice(2);
  const size = Number(sizeText);
  if (!workloads[algorithm] || !Number.isInteger(size) || size < 1 || size > sizeMax) {
    console.error(`usage: node bench.js <${Object.keys(workloads).join('|')}> <size 1..${sizeMax}>`);
    process.exit(2);
  }
  const work = workloads[algorithm](size);
  work();
  const times = [];
  for (let r = 0; r < runs; r++) {
    const started = process.hrtime.bigint();
    work();
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    console.log(`run ${r + 1}/${runs}: ${times[r].toFixed(2)} ms`);
  }
  const medianMs = times.slice().sort((a, b) => a - b)[Math.floor(runs / 2)];
  const metrics = [
    { name: 'ops_per_sec', value: Math.round(size / (medianMs / 1000)), unit: 'ops/s' },
    { name: 'median_ms', value: Number(medianMs.toFixed(3)), unit: 'ms' },
    { name: 'min_ms', value: Number(Math.min(...times).toFixed(3)), unit: 'ms' },
  ];
  const outDir = process.env.DTF_OUTPUT_DIR || process.cwd();
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'metrics.json'), `${JSON.stringify({ metrics }, null, 2)}\n`);
  console.log(`${algorithm} ${size}: ${metrics[0].value} ops/s (median ${metrics[1].value} ms)`);
}

main();
