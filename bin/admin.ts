/** `npm run admin -- <command>`: the admin CLI (lambda/admin/main.ts) from a checkout. */
import { main } from '../lambda/admin/main.js';

await main(process.argv.slice(2));
