// npm run bench -- <name> [args...]: runs dist/bench/<name>.js, which prints one JSON document.
import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const [name, ...rest] = process.argv.slice(2);
const available = existsSync('dist/bench')
  ? readdirSync('dist/bench')
      .filter((f) => f.endsWith('.js'))
      .map((f) => f.slice(0, -3))
  : [];
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name>; available: ${available.join(', ') || '(none)'}`);
  process.exit(2);
}
const result = spawnSync(process.execPath, ['--enable-source-maps', `dist/bench/${name}.js`, ...rest], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
