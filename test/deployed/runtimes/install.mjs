// npm pretest: installs the Lambda runtimes' Node.js binaries for test/deployed (about 370 MB)
// into this folder, once, from its lock file. They are linux-x64 builds: elsewhere nothing is
// installed and test/deployed skips itself. Kept out of the root package.json so that installing
// the package (it ships no tests) never downloads them.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = ['lambda-node22', 'lambda-node24'].map((name) => join(here, 'node_modules', name, 'bin', 'node'));

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.log('test/deployed needs linux-x64 for the Lambda Node.js binaries: not installing them');
} else if (!wanted.every((binary) => existsSync(binary))) {
  console.log('installing the Lambda runtimes Node.js binaries for test/deployed (once)');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: here, stdio: 'inherit' });
}
