#!/usr/bin/env node
'use strict';
require('../dist/src/cli/main.js').main(process.argv).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
