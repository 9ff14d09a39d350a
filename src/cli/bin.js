#!/usr/bin/env node
// The consulate command straight from the TypeScript sources through tsx, for development: no build
// step, but a slower start. The `consulate` bin and `npm start` run the compiled dist/cli/main.js.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('./index.ts');
await runCli(process.argv);
