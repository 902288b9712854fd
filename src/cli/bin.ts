#!/usr/bin/env node
// The `resnet50` command as installed (package.json "bin" → dist/cli/bin.js, compiled JavaScript).
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2));
