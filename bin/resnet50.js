#!/usr/bin/env node
// Development launcher: runs the CLI from the TypeScript sources through tsx (a devDependency), so a
// checkout's tests need no build step. The installed `resnet50` command is dist/cli/bin.js.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
