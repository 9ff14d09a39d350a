// Runs bench server entries (test/bench/*.ts) as plain JavaScript, without tsx: tsx's loader alone
// (its hooks thread) adds ~40–60 MB RSS to a Node 20 process, which would skew the memory figures of
// the peer, the baseline and Consulate's compiled build. Each entry and the test/bench files it
// imports are transpiled (types erased, no checking: `tsc --noEmit` checks them with the rest) into
// node_modules/.cache/consulate-bench/<pid>/, so that packages still resolve from node_modules.
// A transpiled file may import Node built-ins, packages and test/bench files only.
import { mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';

const benchDir = import.meta.dirname;
const outDir = resolve(benchDir, '../../node_modules/.cache/consulate-bench', String(process.pid));
const done = new Map<string, string>();

/** Transpiles test/bench/<entry> (a .ts file) and what it imports; returns the path of the .js to run. */
export function compileForNode(entry: string): string {
  const source = resolve(benchDir, entry);
  const known = done.get(source);
  if (known) return known;
  const output = join(outDir, entry.replace(/\.ts$/, '.js'));
  done.set(source, output);
  const { outputText } = ts.transpileModule(readFileSync(source, 'utf8'), {
    fileName: source,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true, rewriteRelativeImportExtensions: true },
  });
  // What is left after type erasure is what Node will load.
  for (const { fileName } of ts.preProcessFile(outputText, true, true).importedFiles) {
    if (!fileName.startsWith('.')) continue;
    if (!/^\.\/[\w-]+\.js$/.test(fileName)) throw new Error(`${entry}: runs as plain JavaScript, so it may import only test/bench files, not ${fileName}`);
    compileForNode(fileName.slice(2).replace(/\.js$/, '.ts'));
  }
  mkdirSync(dirname(output), { recursive: true });
  // Package scope lookup stops at node_modules/: say ESM here rather than rely on syntax detection.
  writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(output, outputText);
  return output;
}

export function removeCompiled(): void {
  rmSync(outDir, { recursive: true, force: true });
  try {
    rmdirSync(dirname(outDir)); // when no other run is using it
  } catch {
    // not empty, or gone
  }
}
