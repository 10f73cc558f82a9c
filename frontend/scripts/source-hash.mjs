// Computes the SHA-256 of the studio UI's sources, the digest that
// `npm run build` records in dist/source-hash.txt and that the Go test
// frontend/embed_test.go recomputes to catch a stale committed build.
//
// Algorithm (keep in step with embed_test.go): take every file under src/
// plus those of INPUTS that exist, as paths relative to frontend/ with
// forward slashes; sort them; hash, for each, path + "\n" + content + "\n".
//
//   node scripts/source-hash.mjs          print the digest
//   node scripts/source-hash.mjs --write  write it to dist/source-hash.txt
//   node scripts/source-hash.mjs --check  exit 1 when dist/ is stale
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const INPUTS = ['index.html', 'package.json', 'package-lock.json', 'vite.config.ts', 'tsconfig.json', 'svelte.config.js'];

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

export function sourceHash() {
  const files = walk(join(root, 'src'))
    .map((f) => relative(root, f).split('\\').join('/'))
    .concat(INPUTS.filter((f) => existsSync(join(root, f))))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const h = createHash('sha256');
  for (const f of files) {
    h.update(f + '\n');
    h.update(readFileSync(join(root, f)));
    h.update('\n');
  }
  return h.digest('hex');
}

const recorded = join(root, 'dist', 'source-hash.txt');
const digest = sourceHash();
switch (process.argv[2]) {
  case '--write':
    writeFileSync(recorded, digest + '\n');
    break;
  case '--check': {
    const got = existsSync(recorded) ? readFileSync(recorded, 'utf8').trim() : '(none)';
    if (got !== digest) {
      console.error(`dist/ is stale: built from ${got}, sources hash to ${digest}; run npm run build`);
      process.exit(1);
    }
    break;
  }
  default:
    console.log(digest);
}
