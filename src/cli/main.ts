#!/usr/bin/env node
// The consulate command, compiled: `npm run build` turns this into dist/cli/main.js, which the
// package's `consulate` bin and `npm start` run. (src/cli/bin.js runs the same from the TypeScript
// sources through tsx, without a build, and starts more slowly.)
import { runCli } from './index.ts';

await runCli(process.argv);
