#!/usr/bin/env node
// Installed entry point: runs the built CLI (npm run build).
import '../dist/cli/main.js';
