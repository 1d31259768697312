#!/usr/bin/env node
'use strict';
// Entry point of the `liandong` CLI. A production image runs the compiled JavaScript in
// dist/ (`npm run build`); a checkout runs the TypeScript sources through tsx.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const compiled = path.join(root, 'dist', 'hub', 'cli', 'main.js');
if (fs.existsSync(compiled) && !fs.existsSync(path.join(root, 'hub', 'cli', 'main.ts'))) {
  require(compiled).main(process.argv);
} else {
  require('tsx/cjs');
  require(path.join(root, 'hub', 'cli', 'main.ts')).main(process.argv);
}
