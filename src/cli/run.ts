import { main } from './main.js';

// The process entry point: exit with the command's status once its output is flushed. A failure of
// stdout itself (reported by the stream after the command returned) may already have set the status.
const status = await main(process.argv.slice(2));
process.exitCode ||= status;
