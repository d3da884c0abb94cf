// Fails to load on purpose: jest reports the whole file as failed to run.
const missing = require('./no-such-module');

test('never runs', () => {
  expect(missing).toBeDefined();
});
