/**
 * The P5 dashboard benchmark's own process (see p5-dashboard.ts): it loads what `paude ui`
 * loads, then measures, and prints the rows as JSON on stdout.
 */
import '../dist/ui/live-services.js';
import { measure } from './p5-dashboard.js';

process.stdout.write(JSON.stringify(await measure(process.argv.includes('--smoke'))));
// Ink and the controller leave nothing that needs a clean exit.
process.exit(0);
