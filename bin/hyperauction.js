#!/usr/bin/env node
const { createCli } = require('../lib/cli')

createCli().parse()
