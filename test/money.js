const test = require('brittle')
const { parseAmount, formatAmount, MAX_AMOUNT } = require('../lib/money')

test('decimal strings become exact micro-units and back', (t) => {
  const cases = [
    ['75', 75000000n, '75'],
    ['75.5', 75500000n, '75.5'],
    ['75.50', 75500000n, '75.5'],
    ['0.000001', 1n, '0.000001'],
    ['0.1', 100000n, '0.1'],
    ['1000000', 1000000000000n, '1000000'],
    ['9223372036854.775807', MAX_AMOUNT, '9223372036854.775807']
  ]
  for (const [str, units, back] of cases) {
    t.is(parseAmount(str), units, str)
    t.is(formatAmount(parseAmount(str)), back, str + ' formats back')
  }
})

test('0.1 + 0.2 is exactly 0.3 in micro-units', (t) => {
  t.is(formatAmount(parseAmount('0.1') + parseAmount('0.2')), '0.3')
})

test('rejects every malformed or absurd amount with INVALID_AMOUNT', (t) => {
  const bad = [
    '',
    ' ',
    '-1',
    '0',
    '0.0',
    '0.000000',
    '00',
    '01',
    '1.',
    '.5',
    '+1',
    '1e3',
    '1E3',
    '0x10',
    'NaN',
    'Infinity',
    '-Infinity',
    '75.1234567',
    '1,5',
    ' 75',
    '75 ',
    '9223372036854.775808',
    '99999999999999999999',
    '1'.repeat(1000),
    75,
    75.5,
    0,
    NaN,
    Infinity,
    null,
    undefined,
    {},
    [],
    10n,
    true
  ]
  for (const value of bad) {
    try {
      parseAmount(value)
      t.fail('accepted ' + String(value))
    } catch (err) {
      t.is(err.code, 'INVALID_AMOUNT', JSON.stringify(String(value)))
    }
  }
})
