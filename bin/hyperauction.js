#!/usr/bin/env node
const { main } = require('../lib/cli')

main(process.argv.slice(2))
