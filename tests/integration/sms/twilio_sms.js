// SMS end to end: the official Twilio Node library (6.2.0) sends through a running
// `switchboard serve` to the SMSC simulator (smsc.js, over SMPP), and this script plays the
// customer's web app (SmsUrl and StatusCallback, signatures checked) and, through the
// simulator's control API, the handsets and the carrier.
//
// Parameters, from the environment or the matching --flag (--base-url for BASE_URL, ...):
//   BASE_URL       the serve's REST API, e.g. http://127.0.0.1:8080
//   ACCOUNT_SID, AUTH_TOKEN  the account the test owns
//   NUMBER1, NUMBER2  two SMS numbers of that account (E.164)
//   NUMBER3        optional: a third number added with --sms-native-opt-out off (check j)
//   SMSC_CONTROL   the simulator's control API, e.g. http://127.0.0.1:9000
//   HOOK_PORT      the port this script's web app listens on (127.0.0.1). The numbers' SmsUrl
//                  must be http://127.0.0.1:HOOK_PORT/sms/1 (/sms/2, /sms/3). With 0 or unset
//                  it picks a port and sets each number's SmsUrl through the API.
//   SB_ADMIN       the admin command, words split on spaces, e.g.
//                  "/path/switchboard admin --set data_dir=/tmp/x" (checks f and i)
//   --only a,b     runs only these checks (--list names them)
// Prints `ok   NAME` or `FAIL NAME: why` per check and "N passed, M failed"; exits 1 on any
// failure, 2 on bad parameters.
'use strict';
const assert = require('assert');
const http = require('http');
const { execFileSync } = require('child_process');
const twilio = require('twilio');

// --- parameters -----------------------------------------------------------------------------

const argv = process.argv.slice(2);
let only = null, listOnly = false;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--only') only = new Set(String(argv[++i] || '').split(',').filter(Boolean));
  else if (a === '--list') listOnly = true;
  else if (a.startsWith('--') && i + 1 < argv.length) process.env[a.slice(2).toUpperCase().replace(/-/g, '_')] = argv[++i];
  else {
    console.error(`twilio_sms: unknown argument ${a}`);
    process.exit(2);
  }
}
const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};

const checks = [];
const check = (name, title, fn) => checks.push({ name, title, fn });

// --- helpers --------------------------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const digits = (n) => String(n).replace(/^\+/, '');
const RFC2822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000$/;
const uniq = String(Date.now() % 1000000).padStart(6, '0');
// A handset number of its own for each use, so runs and checks never share opt-outs or rules.
let handsetCounter = 0;
const handset = () => `+1555${uniq}${String(++handsetCounter).padStart(2, '0')}`;

async function waitFor(what, timeoutMs, fn, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

let BASE, AC, TOKEN, SMSC, client;
class Rewriting {
  constructor() { this.inner = new twilio.RequestClient(); }
  request(o) {
    return this.inner.request({ ...o, uri: o.uri.replace(/^https?:\/\/[^/]*twilio\.com(:\d+)?/i, BASE) });
  }
}

async function raw(method, path, body) {
  const headers = { Authorization: 'Basic ' + Buffer.from(`${AC}:${TOKEN}`).toString('base64') };
  if (body !== undefined) headers['Content-Type'] = 'application/x-www-form-urlencoded';
  const res = await fetch(BASE + path, { method, headers, body });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
  return { status: res.status, json, text };
}

async function smsc(method, path, body) {
  const res = await fetch(SMSC + path, { method, headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json();
  if (res.status !== 200) throw new Error(`smsc ${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}
const partsTo = (number) => smsc('GET', `/submits?to=${digits(number)}`);
const messagesTo = async (number) => (await smsc('GET', '/messages')).filter((m) => digits(m.destination_addr) === digits(number));

async function rejects(promise, status, codes) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof twilio.RestException, `want RestException, got ${e && e.constructor && e.constructor.name}: ${e}`);
    assert.strictEqual(e.status, status, `status ${e.status}, want ${status} (${e.message})`);
    if (codes !== undefined) assert.ok([].concat(codes).includes(e.code), `code ${e.code}, want ${codes} (${e.message})`);
    return e;
  }
  assert.fail(`resolved; want HTTP ${status}`);
}

async function waitStatus(sid, wanted, timeoutMs = 20000) {
  const set = new Set([].concat(wanted));
  let seen;
  try {
    return await waitFor(`message ${sid} to be ${[...set].join('/')}`, timeoutMs, async () => {
      seen = await client.messages(sid).fetch();
      return set.has(seen.status) ? seen : null;
    }, 200);
  } catch (e) {
    throw new Error(`${e.message} (last status ${seen && seen.status}, error ${seen && seen.errorCode})`);
  }
}

function admin(...words) {
  const cmd = env('SB_ADMIN').trim().split(/\s+/);
  return execFileSync(cmd[0], [...cmd.slice(1), ...words], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
async function setRate(perSecond) {
  admin('account', 'set', '--account', AC, '--sms-per-second', String(perSecond));
  await sleep(1500);  // serve follows account settings within a second
}

// --- the customer's web app -----------------------------------------------------------------

const hook = { base: null, inbound: [], callbacks: [], replies: new Map() };
// `replies`: number index ('1', '2', '3') -> function(params) giving the TwiML to answer.

function parseForm(text) {
  const out = {};
  for (const [k, v] of new URLSearchParams(text)) {
    if (k in out) out[k] = [].concat(out[k], v);
    else out[k] = v;
  }
  return out;
}

function startHook(port) {
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const url = hook.base + req.url;
      const params = req.method === 'POST' ? parseForm(body) : {};
      const signature = req.headers['x-twilio-signature'] || '';
      const entry = { path: req.url, method: req.method, params, signature, url, time_ms: Date.now(),
        valid: !!signature && twilio.validateRequest(TOKEN, signature, url, params),
        contentType: req.headers['content-type'] || '' };
      const m = req.url.match(/^\/sms\/(\d+)/);
      if (m) {
        entry.number = m[1];
        hook.inbound.push(entry);
        const make = hook.replies.get(m[1]);
        const twiml = make ? make(params) : '<?xml version="1.0" encoding="UTF-8"?><Response/>';
        res.writeHead(200, { 'Content-Type': 'text/xml' });
        res.end(twiml);
        return;
      }
      if (req.url.startsWith('/status')) {
        hook.callbacks.push(entry);
        res.writeHead(204);
        res.end();
        return;
      }
      res.writeHead(404);
      res.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(port, '127.0.0.1', () => {
      hook.base = `http://127.0.0.1:${server.address().port}`;
      resolve(server);
    });
  });
}
const callbacksFor = (sid) => hook.callbacks.filter((c) => c.params.MessageSid === sid);
const inboundFrom = (from) => hook.inbound.filter((e) => e.params.From === from);
const twimlMessage = (text) => {
  const esc = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Message>${esc}</Message></Response>`;
};

// --- checks ---------------------------------------------------------------------------------

check('a', 'send through the library: SMSC gets it, queued -> sent -> delivered, signed callbacks', async () => {
  const to = handset(), from = env('NUMBER1');
  const body = `Hello from Switchboard, check a ${uniq}`;
  const statusCallback = `${hook.base}/status?check=a`;
  const m = await client.messages.create({ to, from, body, statusCallback });
  assert.match(m.sid, /^SM[0-9a-f]{32}$/);
  assert.strictEqual(m.status, 'queued');
  assert.strictEqual(m.to, to);
  assert.strictEqual(m.from, from);
  assert.strictEqual(m.body, body);
  assert.strictEqual(m.direction, 'outbound-api');
  assert.strictEqual(m.numSegments, '1');
  assert.strictEqual(m.accountSid, AC);
  assert.strictEqual(m.uri, `/2010-04-01/Accounts/${AC}/Messages/${m.sid}.json`);

  const parts = await waitFor('the submit at the SMSC', 15000, async () => { const p = await partsTo(to); return p.length ? p : null; });
  assert.strictEqual(parts.length, 1);
  assert.strictEqual(digits(parts[0].source_addr), digits(from));
  assert.strictEqual(digits(parts[0].destination_addr), digits(to));
  assert.strictEqual(parts[0].text, body);
  assert.strictEqual(parts[0].data_coding, 0);
  assert.strictEqual(parts[0].udh, null);
  assert.strictEqual(parts[0].registered_delivery & 1, 1, 'no delivery receipt asked for');

  const done = await waitStatus(m.sid, 'delivered');
  assert.strictEqual(done.errorCode, null);
  const r = await raw('GET', `/2010-04-01/Accounts/${AC}/Messages/${m.sid}.json`);
  assert.strictEqual(r.status, 200);
  assert.strictEqual(r.json.status, 'delivered');
  assert.match(r.json.date_sent, RFC2822);
  assert.match(r.json.date_created, RFC2822);

  const cbs = await waitFor('the sent and delivered callbacks', 10000, () => {
    const c = callbacksFor(m.sid);
    return c.some((x) => x.params.MessageStatus === 'delivered') ? c : null;
  });
  const statuses = cbs.map((c) => c.params.MessageStatus);
  assert.ok(statuses.includes('sent'), `callbacks: ${statuses}`);
  for (const c of cbs) {
    assert.ok(c.valid, `callback ${c.params.MessageStatus}: bad signature ${c.signature} for ${c.url}`);
    assert.strictEqual(c.params.AccountSid, AC);
    assert.strictEqual(c.params.To, to);
    assert.strictEqual(c.params.From, from);
    assert.match(c.contentType, /^application\/x-www-form-urlencoded/);
  }

  // Lists and their filters.
  const byTo = await client.messages.list({ to });
  assert.deepStrictEqual(byTo.map((x) => x.sid), [m.sid]);
  const byBoth = await client.messages.list({ to, from });
  assert.deepStrictEqual(byBoth.map((x) => x.sid), [m.sid]);
  const recent = await client.messages.list({ to, dateSentAfter: new Date(Date.now() - 86400e3) });
  assert.deepStrictEqual(recent.map((x) => x.sid), [m.sid]);
  const old = await client.messages.list({ to, dateSentBefore: new Date(Date.now() - 86400e3) });
  assert.strictEqual(old.length, 0);
  const otherFrom = await client.messages.list({ to, from: env('NUMBER2') });
  assert.strictEqual(otherFrom.length, 0);
});

check('b', 'segments: 200 GSM characters -> 2 UDH parts; UCS-2 -> data_coding 8; extension characters count 2', async () => {
  const to = handset(), from = env('NUMBER1');
  let body = `Check b ${uniq}: `;
  for (let i = 0; body.length < 200; i++) body += `word${i} `;
  body = body.slice(0, 200);
  const m = await client.messages.create({ to, from, body });
  assert.strictEqual(m.numSegments, '2');
  const parts = await waitFor('2 parts at the SMSC', 15000, async () => { const p = await partsTo(to); return p.length >= 2 ? p : null; });
  assert.strictEqual(parts.length, 2);
  assert.deepStrictEqual(parts.map((p) => [p.udh && p.udh.total, p.udh && p.udh.seq]).sort(), [[2, 1], [2, 2]]);
  assert.strictEqual(parts[0].udh.ref, parts[1].udh.ref);
  for (const p of parts) {
    assert.strictEqual(p.data_coding, 0);
    assert.strictEqual(p.esm_class & 0x40, 0x40, 'no UDHI bit');
    assert.ok(p.text.length <= 153, `a part of ${p.text.length} septets`);
  }
  const joined = (await messagesTo(to))[0];
  assert.strictEqual(joined.text, body);
  assert.strictEqual((await waitStatus(m.sid, 'delivered')).numSegments, '2');

  const to2 = handset();
  const greek = `Γειά σου κόσμε 😀 ${uniq}`;
  const u = await client.messages.create({ to: to2, from, body: greek });
  assert.strictEqual(u.numSegments, '1');
  const up = await waitFor('the UCS-2 part', 15000, async () => { const p = await partsTo(to2); return p.length ? p : null; });
  assert.strictEqual(up.length, 1);
  assert.strictEqual(up[0].data_coding, 8);
  assert.strictEqual(up[0].text, greek);
  await waitStatus(u.sid, 'delivered');

  // 150 characters with 5 from the extension table: 155 septets, one segment; 160 characters
  // with one euro sign: 161 septets, two.
  const to3 = handset();
  const ext = ('{[€]}' + 'e'.repeat(145)).slice(0, 150);
  const e1 = await client.messages.create({ to: to3, from, body: ext });
  assert.strictEqual(e1.numSegments, '1');
  const e2 = await client.messages.create({ to: to3, from, body: '€' + 'f'.repeat(159) });
  assert.strictEqual(e2.numSegments, '2');
  const em = await waitFor('the extension-table messages', 15000, async () => {
    const ms = await messagesTo(to3);
    return ms.length === 2 && ms.every((x) => x.complete) ? ms : null;
  });
  assert.deepStrictEqual(em.map((x) => x.text).sort(), [ext, '€' + 'f'.repeat(159)].sort());
  assert.deepStrictEqual(em.map((x) => x.data_coding), [0, 0]);
});

check('c', 'receipts UNDELIV, REJECTD, EXPIRED -> undelivered or failed, with an error code', async () => {
  const from = env('NUMBER1');
  const cases = [['UNDELIV', '001'], ['REJECTD', '002'], ['EXPIRED', '003']];
  const sent = [];
  for (const [stat, err] of cases) {
    const to = handset();
    await smsc('POST', '/rule', { to, stat, err });
    const m = await client.messages.create({ to, from, body: `check c ${stat} ${uniq}`, statusCallback: `${hook.base}/status` });
    sent.push({ stat, m });
  }
  for (const { stat, m } of sent) {
    const f = await waitStatus(m.sid, ['undelivered', 'failed']);
    assert.ok(Number.isInteger(f.errorCode) && f.errorCode > 0, `${stat}: errorCode ${f.errorCode}`);
    const cb = await waitFor(`the ${f.status} callback for ${stat}`, 10000,
      () => callbacksFor(m.sid).find((c) => c.params.MessageStatus === f.status));
    assert.ok(cb.valid, `${stat}: callback signature`);
    assert.strictEqual(cb.params.ErrorCode, String(f.errorCode), `${stat}: callback ErrorCode`);
  }
  const rc = await smsc('GET', '/receipts');
  for (const { stat } of sent) {
    assert.ok(rc.some((x) => x.stat === stat && x.status === 0), `the ${stat} receipt was not acknowledged with status 0`);
  }
});

check('d', 'inbound: MO -> signed SmsUrl webhook; its TwiML <Message> reaches the sender; 2-part MO joined', async () => {
  const from = handset(), to = env('NUMBER1');
  hook.replies.set('1', (p) => twimlMessage(`echo: ${p.Body}`));
  try {
    const text = `hi there, check d ${uniq}`;
    const r = await smsc('POST', '/deliver', { from, to, text });
    assert.strictEqual(r.command_status, 0);
    const e = await waitFor('the SmsUrl webhook', 10000, () => inboundFrom(from)[0]);
    assert.strictEqual(e.number, '1');
    assert.ok(e.valid, `bad signature ${e.signature} for ${e.url}`);
    assert.strictEqual(e.method, 'POST');
    assert.strictEqual(e.params.Body, text);
    assert.strictEqual(e.params.From, from);
    assert.strictEqual(e.params.To, to);
    assert.strictEqual(e.params.AccountSid, AC);
    assert.strictEqual(e.params.NumSegments, '1');
    assert.strictEqual(e.params.SmsStatus, 'received');
    assert.match(e.params.MessageSid, /^SM[0-9a-f]{32}$/);
    const reply = await waitFor('the TwiML reply at the SMSC', 15000, async () => (await partsTo(from))[0]);
    assert.strictEqual(reply.text, `echo: ${text}`);
    assert.strictEqual(digits(reply.source_addr), digits(to));
    const inbound = await client.messages(e.params.MessageSid).fetch();
    assert.strictEqual(inbound.direction, 'inbound');
    assert.strictEqual(inbound.status, 'received');
    assert.strictEqual(inbound.body, text);
    const replies = await client.messages.list({ to: from });
    assert.strictEqual(replies.length, 1);
    assert.strictEqual(replies[0].direction, 'outbound-reply');
    assert.strictEqual(replies[0].body, `echo: ${text}`);

    // A long MO comes in two concatenated parts: one webhook with the whole text.
    const from2 = handset();
    const long = `Long one ${uniq} `.padEnd(230, 'z');
    const r2 = await smsc('POST', '/deliver', { from: from2, to, text: long });
    assert.deepStrictEqual(r2.statuses, [0, 0]);
    const e2 = await waitFor('the webhook for the 2-part MO', 10000, () => inboundFrom(from2)[0]);
    assert.strictEqual(e2.params.Body, long);
    assert.strictEqual(e2.params.NumSegments, '2');
    await sleep(500);
    assert.strictEqual(inboundFrom(from2).length, 1, 'the webhook was called per part');
  } finally {
    hook.replies.delete('1');
  }
});

check('e', 'STOP to number 1 blocks number 2 too (21610, nothing sent); OptOuts lists it; START lifts it; HELP answers', async () => {
  const h = handset(), n1 = env('NUMBER1'), n2 = env('NUMBER2');
  let r = await smsc('POST', '/deliver', { from: h, to: n1, text: 'Stop' });
  assert.strictEqual(r.command_status, 0);
  const confirm = await waitFor('the STOP confirmation', 10000, async () => (await partsTo(h))[0]);
  assert.strictEqual(digits(confirm.source_addr), digits(n1));
  assert.ok(confirm.text.length > 0);
  await sleep(1500);
  const afterStop = (await partsTo(h)).length;
  assert.strictEqual(afterStop, 1, 'more than one confirmation');

  for (const from of [n2, n1]) {
    await rejects(client.messages.create({ to: h, from, body: `blocked ${uniq}` }), 400, 21610);
  }
  await sleep(1500);
  assert.strictEqual((await partsTo(h)).length, afterStop, 'an opted-out recipient got a message');

  const list = await raw('GET', `/2010-04-01/Accounts/${AC}/OptOuts.json`);
  assert.strictEqual(list.status, 200, list.text);
  const row = (list.json.opt_outs || []).find((o) => o.phone_number === h);
  assert.ok(row, `${h} not in ${list.text}`);
  assert.strictEqual(String(row.keyword).toUpperCase(), 'STOP');
  assert.strictEqual(row.via_number, n1);
  assert.match(row.date_created, RFC2822);
  for (const k of ['page', 'page_size', 'uri', 'first_page_uri', 'next_page_uri']) assert.ok(k in list.json, `no ${k}`);

  r = await smsc('POST', '/deliver', { from: h, to: n2, text: 'start' });
  assert.strictEqual(r.command_status, 0);
  const back = await waitFor('the START confirmation', 10000, async () => (await partsTo(h))[afterStop]);
  assert.strictEqual(digits(back.source_addr), digits(n2));
  const after = await raw('GET', `/2010-04-01/Accounts/${AC}/OptOuts.json`);
  assert.ok(!(after.json.opt_outs || []).some((o) => o.phone_number === h), 'still listed after START');
  const m = await client.messages.create({ to: h, from: n2, body: `welcome back ${uniq}` });
  assert.strictEqual(m.status, 'queued');
  await waitStatus(m.sid, 'delivered');
  assert.ok((await partsTo(h)).some((p) => p.text === `welcome back ${uniq}`));

  const h2 = handset();
  await smsc('POST', '/deliver', { from: h2, to: n1, text: 'HELP' });
  const help = await waitFor('the HELP answer', 10000, async () => (await partsTo(h2))[0]);
  assert.ok(help.text.length > 0);
  assert.strictEqual(digits(help.source_addr), digits(n1));
  // HELP opts nobody out.
  const ok = await client.messages.create({ to: h2, from: n2, body: `after help ${uniq}` });
  await waitStatus(ok.sid, 'delivered');
});

check('f', 'rate limit: 10 messages at 1/s take about 9 s at the SMSC, at 5/s about 2 s', async () => {
  const from = env('NUMBER1');
  const spread = async (rate, lo, hi) => {
    await setRate(rate);
    const to = handset();
    const t0 = Date.now();
    const sids = [];
    for (let i = 0; i < 10; i++) sids.push((await client.messages.create({ to, from, body: `rate ${rate} #${i} ${uniq}` })).sid);
    const apiMs = Date.now() - t0;
    assert.ok(apiMs < 3000, `the API took ${apiMs} ms to accept 10 messages`);
    const parts = await waitFor(`10 messages at ${rate}/s`, 30000, async () => { const p = await partsTo(to); return p.length >= 10 ? p : null; }, 200);
    assert.strictEqual(parts.length, 10);
    const times = parts.map((p) => p.time_ms).sort((a, b) => a - b);
    const span = (times[9] - times[0]) / 1000;
    console.log(`     ${rate}/s: first to last submit ${span.toFixed(2)} s`);
    assert.ok(span >= lo && span <= hi, `${rate}/s: 10 messages over ${span.toFixed(2)} s, want ${lo}-${hi} s`);
    assert.deepStrictEqual(parts.map((p) => p.text).sort(), Array.from({ length: 10 }, (_, i) => `rate ${rate} #${i} ${uniq}`).sort());
    for (const sid of sids) await waitStatus(sid, 'delivered');
  };
  try {
    await spread(1, 8, 13);
    await spread(5, 1.4, 3.5);
  } finally {
    await setRate(1);
  }
});

check('g', 'throttling: 5 ESME_RTHROTTLED answers, 3 messages all sent once and delivered', async () => {
  const to = handset(), from = env('NUMBER1');
  const before = (await smsc('GET', '/stats')).throttled;
  await smsc('POST', '/throttle', { count: 5 });
  const sids = [];
  for (let i = 0; i < 3; i++) sids.push((await client.messages.create({ to, from, body: `throttled ${i} ${uniq}` })).sid);
  for (const sid of sids) await waitStatus(sid, 'delivered', 40000);
  const parts = await partsTo(to);
  assert.deepStrictEqual(parts.map((p) => p.text).sort(), [0, 1, 2].map((i) => `throttled ${i} ${uniq}`));
  const st = await smsc('GET', '/stats');
  assert.strictEqual(st.throttle_left, 0);
  assert.strictEqual(st.throttled - before, 5);
});

check('h', 'dropped bind: the SMSC closes every session; a message sent meanwhile arrives after reconnect', async () => {
  const to = handset(), from = env('NUMBER1');
  const before = (await smsc('GET', '/stats')).binds;
  const dropped = Date.now();
  const d = await smsc('POST', '/drop', { refuse_ms: 2000 });
  assert.ok(d.dropped >= 1, 'no session was bound');
  const m = await client.messages.create({ to, from, body: `after the drop ${uniq}` });
  assert.strictEqual(m.status, 'queued');
  await waitStatus(m.sid, 'delivered', 40000);
  const parts = await partsTo(to);
  assert.strictEqual(parts.length, 1);
  assert.strictEqual(parts[0].text, `after the drop ${uniq}`);
  assert.ok(parts[0].time_ms >= dropped + 2000, 'submitted while the SMSC refused connections?');
  const st = await smsc('GET', '/stats');
  assert.ok(st.binds > before, 'no new bind');
  assert.ok(st.bound_sessions >= 1, 'not bound again');
});

check('i', 'DLR level 2: with it on, a REJECTD receipt gives a carrier text in errorMessage', async () => {
  const from = env('NUMBER1'), to = handset();
  admin('account', 'set', '--account', AC, '--dlr-level2', 'on');
  try {
    await sleep(1500);
    await smsc('POST', '/rule', { to, stat: 'REJECTD', err: '002' });
    const m = await client.messages.create({ to, from, body: `level 2 ${uniq}` });
    const f = await waitStatus(m.sid, ['undelivered', 'failed']);
    assert.ok(f.errorCode > 0);
    assert.ok(typeof f.errorMessage === 'string' && f.errorMessage.length > 0, `errorMessage ${f.errorMessage}`);
  } finally {
    admin('account', 'set', '--account', AC, '--dlr-level2', 'off');
  }
});

check('j', 'native opt-out off (number 3): STOP reaches the webhook only, nobody is opted out', async () => {
  const n3 = env('NUMBER3'), h = handset();
  const r = await smsc('POST', '/deliver', { from: h, to: n3, text: 'STOP' });
  assert.strictEqual(r.command_status, 0);
  const e = await waitFor('the webhook of number 3', 10000, () => inboundFrom(h)[0]);
  assert.strictEqual(e.number, '3');
  assert.strictEqual(e.params.Body, 'STOP');
  assert.ok(e.valid);
  await sleep(1500);
  assert.strictEqual((await partsTo(h)).length, 0, 'a confirmation was sent');
  const list = await raw('GET', `/2010-04-01/Accounts/${AC}/OptOuts.json`);
  assert.ok(!(list.json.opt_outs || []).some((o) => o.phone_number === h), 'opted out anyway');
  const m = await client.messages.create({ to: h, from: env('NUMBER1'), body: `still reachable ${uniq}` });
  await waitStatus(m.sid, 'delivered');
});

check('k', 'refusals: bad To 21211, From not the account\'s 21606/21212, over 1,600 characters 400; nothing sent', async () => {
  const from = env('NUMBER1');
  const before = (await smsc('GET', '/stats')).submits;
  await rejects(client.messages.create({ to: 'abc', from, body: 'x' }), 400, 21211);
  await rejects(client.messages.create({ to: '5551234', from, body: 'x' }), 400, 21211);
  await rejects(client.messages.create({ to: handset(), from: '+19995550123', body: 'x' }), 400, [21606, 21212]);
  await rejects(client.messages.create({ to: handset(), from, body: 'y'.repeat(1601) }), 400);
  await sleep(1000);
  assert.strictEqual((await smsc('GET', '/stats')).submits, before);
});

// --- main -----------------------------------------------------------------------------------

(async () => {
  if (listOnly) {
    for (const c of checks) console.log(`${c.name}  ${c.title}`);
    return process.exit(0);
  }
  if (only) {
    const unknown = [...only].filter((n) => !checks.some((c) => c.name === n));
    if (unknown.length) {
      console.error(`twilio_sms: no check ${unknown.join(', ')} (--list)`);
      process.exit(2);
    }
  }
  try {
    BASE = env('BASE_URL').replace(/\/+$/, '');
    AC = env('ACCOUNT_SID');
    TOKEN = env('AUTH_TOKEN');
    SMSC = env('SMSC_CONTROL').replace(/\/+$/, '');
    env('NUMBER1');
    env('NUMBER2');
  } catch (e) {
    console.error(`twilio_sms: ${e.message}`);
    process.exit(2);
  }
  client = twilio(AC, TOKEN, { httpClient: new Rewriting() });
  const server = await startHook(Number(process.env.HOOK_PORT || 0));
  if (!Number(process.env.HOOK_PORT || 0)) {
    for (const [i, k] of [[1, 'NUMBER1'], [2, 'NUMBER2'], [3, 'NUMBER3']]) {
      if (!process.env[k]) continue;
      const [n] = await client.incomingPhoneNumbers.list({ phoneNumber: process.env[k] });
      if (!n) throw new Error(`${process.env[k]} is not a number of ${AC}`);
      await client.incomingPhoneNumbers(n.sid).update({ smsUrl: `${hook.base}/sms/${i}` });
    }
  }
  console.log(`twilio_sms: web app at ${hook.base}, API ${BASE}, SMSC control ${SMSC}`);
  let passed = 0, failed = 0;
  for (const c of checks) {
    if (only && !only.has(c.name)) continue;
    if (!only && c.name === 'j' && !process.env.NUMBER3) continue;
    const t0 = Date.now();
    try {
      await c.fn();
      passed++;
      console.log(`ok   ${c.name}: ${c.title} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${c.name}: ${c.title}: ${(e && e.message) || e}`);
      if (process.env.VERBOSE) console.log(e && e.stack);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  server.close();
  process.exit(failed ? 1 : 0);
})().catch((e) => {
  console.log(`FAIL setup: ${(e && e.stack) || e}`);
  process.exit(1);
});
