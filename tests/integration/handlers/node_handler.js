// node_handler.js — a tickq handler in Node (docs/handlers.md: requests on
// fd 3, messages on fd 4, JSON lines), serving the type node_square:
// {"n": N} -> {"square": N*N, "lang": "node", "attempt": A}. A negative n is
// refused permanently; a cancel is answered with an error.
'use strict';
const fs = require('fs');
const readline = require('readline');

function send(msg) {
  fs.writeSync(4, JSON.stringify(msg) + '\n');
}

send({ msg: 'hello', protocol: 1, types: ['node_square'] });
const requests = readline.createInterface({ input: fs.createReadStream(null, { fd: 3 }) });
requests.on('line', (line) => {
  const m = JSON.parse(line);
  if (m.msg === 'cancel') {
    return; // jobs here finish at once: nothing left to stop
  }
  const n = m.args.n;
  console.log(`node_handler: squaring ${n}`);
  if (typeof n !== 'number' || n < 0) {
    send({ msg: 'error', id: m.id, error: `n must be a number >= 0, not ${n}`, retry: false });
    return;
  }
  send({ msg: 'result', id: m.id, data: { square: n * n, lang: 'node', attempt: m.attempt } });
});
requests.on('close', () => process.exit(0));
