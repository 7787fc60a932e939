import { simulate } from './simulate';
const n = Number(process.argv[2] ?? 100);
const start = Number(process.argv[3] ?? 1);
const t0 = Date.now();
let ops = 0;
let fails = 0;
for (let s = start; s < start + n; s++) {
  try {
    ops += simulate(s).operations;
  } catch (e) {
    fails++;
    if (fails <= 3) console.log((e as Error).message.slice(0, 1500));
  }
}
console.log(`${n} seeds in ${Date.now() - t0} ms, ops=${ops} fails=${fails}`);
