import { main } from './main.js';

// The process entry point: exit with the command's status once its output is flushed.
process.exitCode = await main(process.argv.slice(2));
