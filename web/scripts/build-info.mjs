// Writes app/web/client/build-info.json with a hash of the client's sources, so a Python test
// (tests/test_web_build.py) fails when the committed build is older than web/.
// The same algorithm lives in that test: sorted POSIX paths of every file under web/ except
// node_modules, dist, dot-entries and *.tsbuildinfo; sha256 over "<path>\0<sha256 of content>\n" for each.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const SKIPPED = new Set(['node_modules', 'dist']);
const webDir = fileURLToPath(new URL('..', import.meta.url));
const outFile = join(webDir, '..', 'app', 'web', 'client', 'build-info.json');

function walk(dir) {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIPPED.has(entry.name) || entry.name.startsWith('.') || entry.name.endsWith('.tsbuildinfo')) {
      continue;
    }
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...walk(path));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

const paths = walk(webDir)
  .map((path) => relative(webDir, path).split(sep).join('/'))
  .sort();
const digest = createHash('sha256');
for (const path of paths) {
  const content = createHash('sha256').update(readFileSync(join(webDir, path))).digest('hex');
  digest.update(`${path}\0${content}\n`);
}
const info = { sourcesHash: digest.digest('hex'), files: paths.length };
writeFileSync(outFile, JSON.stringify(info, null, 2) + '\n');
console.log(`build-info.json: ${info.files} source files, ${info.sourcesHash.slice(0, 12)}`);
