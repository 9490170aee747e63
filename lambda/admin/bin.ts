#!/usr/bin/env node
/**
 * The package's `mcp-oauth-gateway` command (package.json `bin`): `npx mcp-oauth-gateway admin
 * <command>`. `admin` is its one subcommand for now; main.ts does the rest.
 */
import { main } from './main.js';

const [subcommand, ...rest] = process.argv.slice(2);
if (subcommand === 'admin') {
  await main(rest, 'mcp-oauth-gateway admin');
} else {
  process.stderr.write('usage: mcp-oauth-gateway admin <command> [options]   (mcp-oauth-gateway admin --help)\n');
  process.exitCode = 2;
}
