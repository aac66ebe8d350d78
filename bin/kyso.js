#!/usr/bin/env node
// Runs the compiled CLI; `npm ci` builds it (the prepare script).
await import('../dist/cli/run.js');
