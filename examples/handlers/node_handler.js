// node_handler.js — a tickq handler in Node.js, without tickq's library:
// it reads jobs from fd 3 and writes its messages to fd 4, one JSON object
// per line (docs/handlers.md, "The wire format"). It serves one type,
// word_count: {"text": "..."} -> {"words": N}.
//   [handler node]
//   command = node examples/handlers/node_handler.js
//   types = word_count
'use strict';
const fs = require('fs');
const readline = require('readline');

const out = fs.createWriteStream(null, { fd: 4 });
const send = (msg) => out.write(JSON.stringify(msg) + '\n');

send({ msg: 'hello', protocol: 1, types: ['word_count'] });

const requests = readline.createInterface({ input: fs.createReadStream(null, { fd: 3 }) });
requests.on('line', (line) => {
  const req = JSON.parse(line);
  if (req.msg !== 'job') return;            // a cancel: our jobs are too short to stop
  if (typeof req.args.text !== 'string') {
    send({ msg: 'error', id: req.id, error: 'args need "text", a string', retry: false });
    return;
  }
  send({ msg: 'progress', id: req.id, fraction: 0.5 });
  console.log(`counting ${req.args.text.length} characters`);   // goes to tickq's log
  const words = req.args.text.split(/\s+/).filter((w) => w !== '').length;
  send({ msg: 'result', id: req.id, data: { words } });
});
requests.on('close', () => process.exit(0)); // tickq closed fd 3: stop
