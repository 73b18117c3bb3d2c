/**
 * Entry point of the `sendnet` CLI (run through bin/sendnet.mjs, which registers tsx). See docs/cli.md.
 */
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv.slice(2));
