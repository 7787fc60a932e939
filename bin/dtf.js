#!/usr/bin/env node
// Runs the TypeScript CLI straight from the checkout: tsx compiles on load,
// so `npx dtf` and `npm start` need no build step.
require('tsx/cjs/api').register();
require('../services/cli/main.ts').main(process.argv);
