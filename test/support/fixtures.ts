/**
 * The registration bodies real MCP clients send (test/fixtures/registrations/, copies of
 * ../shared/fixtures/registrations/ so a clone tests on its own), loaded once for every suite.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type RegistrationBody = Record<string, unknown>;

const DIR = fileURLToPath(new URL('../fixtures/registrations/', import.meta.url));

/** [file name, body] for every fixture, in file-name order. */
export const REGISTRATION_FIXTURES: ReadonlyArray<readonly [string, RegistrationBody]> = readdirSync(DIR)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => [name, JSON.parse(readFileSync(`${DIR}${name}`, 'utf8')) as RegistrationBody] as const);

/** A fresh copy of one fixture, safe to modify. */
export function registrationFixture(name: string): RegistrationBody {
  const found = REGISTRATION_FIXTURES.find(([file]) => file === name);
  if (!found) throw new Error(`fixture ${name} is missing`);
  return structuredClone(found[1]);
}
