#!/usr/bin/env node
// Thin launcher so the bin link exists before the first build.
import { main } from '../dist/main.js';

// Exit once the command is done, even if something it loaded (a plugin's
// timer) would keep the process alive. stdout and stderr are synchronous
// for files and pipes on Linux, so nothing written is lost.
process.exit(await main(process.argv.slice(2)));
