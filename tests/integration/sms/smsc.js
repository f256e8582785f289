// An SMSC for tests, on the npm `smpp` package's server: it binds ESMEs, takes submit_sm,
// records every part as it arrived, answers delivery receipts, delivers MO messages on
// demand, and lets a test misbehave it (throttling, slow answers, a dropped bind) through a
// small JSON control API on 127.0.0.1.
//
//   node smsc.js --port P --control-port C [--system-id sb] [--password secret]
//                [--receipt-delay-ms 50] [--host 127.0.0.1] [--verbose]
//
// Port 0 picks a free port. Ready when it prints `smsc listening P control C` (the real ports).
// SIGTERM or SIGINT: closes every session and exits 0.
//
// Control API (JSON in and out):
//   GET  /submits[?since=SEQ&to=DIGITS]   recorded parts, seq > since; `to` matches
//                                         destination_addr without '+'
//   GET  /messages                        parts joined into messages (by source, destination
//                                         and UDH reference), with their text
//   GET  /stats                           counters: binds, bind_failures, unbinds, drops,
//                                         submits, throttled, rejected_submits,
//                                         unique_message_ids, receipts_sent, deliver_acks
//                                         {status: count}, mo_sent, mo_acks, enquire_links,
//                                         first_submit_ms, last_submit_ms, bound_sessions, ...
//   GET  /receipts                        receipts sent and each one's deliver_sm_resp status
//   GET  /sessions                        open sessions and how they are bound
//   POST /rule {to, stat, err, submit_status?}  receipts for `to` get stat/err (default
//                                         DELIVRD/000); submit_status answers its submit_sm
//                                         with that command_status instead of accepting it
//   POST /throttle {count}                the next `count` submit_sm get ESME_RTHROTTLED
//   POST /hold {ms}                       every submit_sm_resp waits `ms` (0: answer at once)
//   POST /drop {refuse_ms?}               destroys every session's socket; for refuse_ms new
//                                         connections are closed at once
//   POST /deliver {from, to, text, ucs2?, wait_ms?}  an MO message (split into UDH parts when
//                                         long) to a bound receiver; answers {command_status,
//                                         statuses} once every deliver_sm_resp came back
//   POST /reset                           forgets parts, receipts, rules, throttle and hold and
//                                         zeroes the message counters (bind counters stay)
//
// A part is {seq, message_id, session, source_addr, destination_addr, source_addr_ton,
// dest_addr_ton, data_coding, esm_class, registered_delivery, udh: {ref,total,seq} | null,
// text, sm_hex, time_ms}; `text` is decoded from the wire octets here (gsm.js), never by the
// package, so it is exactly what was sent.
//
// Receipts: when registered_delivery asks for one (bit 0: always; bit 1: on failure only),
// receipt-delay-ms after the submit_sm_resp went out, a deliver_sm (esm_class 0x04) goes to
// the session the part came from, or any session bound as a receiver, with the text
// "id:ID sub:001 dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:STAT err:ERR text:"
// and the receipted_message_id and message_state TLVs. A receipt no session could take, or
// whose session closed before answering, waits for the next bind; one answered with an error
// status is sent again after a second, up to 5 times.
'use strict';
const http = require('http');
const smpp = require('smpp');
const gsm = require('./gsm');

// Keep short_message (and message_payload) as raw octets in both directions: decoding is done
// here, and the parts this simulator sends are built as Buffers.
delete smpp.commands.submit_sm.params.short_message.filter;
delete smpp.commands.deliver_sm.params.short_message.filter;
delete smpp.tlvs.message_payload.filter;

function parseArgs(argv) {
  const o = { port: 2775, controlPort: 0, host: '127.0.0.1', systemId: 'sb', password: 'secret', receiptDelayMs: 50, verbose: false };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i], v = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port') o.port = Number(v());
    else if (a === '--control-port') o.controlPort = Number(v());
    else if (a === '--host') o.host = v();
    else if (a === '--system-id') o.systemId = v();
    else if (a === '--password') o.password = v();
    else if (a === '--receipt-delay-ms') o.receiptDelayMs = Number(v());
    else if (a === '--verbose') o.verbose = true;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

let opts;
try {
  opts = parseArgs(process.argv);
} catch (e) {
  console.error(`smsc: ${e.message}`);
  process.exit(2);
}
const log = (...a) => { if (opts.verbose) console.error('smsc:', ...a); };

// message_state values (SMPP 3.4 5.2.28) and whether a stat counts as a failure.
const STATE = { ENROUTE: 1, DELIVRD: 2, EXPIRED: 3, DELETED: 4, UNDELIV: 5, ACCEPTD: 6, UNKNOWN: 7, REJECTD: 8 };
const FAILED = new Set(['EXPIRED', 'DELETED', 'UNDELIV', 'UNKNOWN', 'REJECTD']);
const digits = (addr) => String(addr || '').replace(/^\+/, '');

const state = {
  parts: [],
  seq: 0,
  nextId: 0x10000,
  rules: new Map(),  // destination digits -> {stat, err, submit_status}
  throttle: 0,
  holdMs: 0,
  refuseUntil: 0,
  receipts: [],      // {message_id, to, stat, err, attempts, status, sent_ms, ack_ms}
  pendingReceipts: [],  // waiting for a receiver bind
  timers: new Set(),
};
const stats = {};
function zeroMessageStats() {
  Object.assign(stats, {
    submits: 0, rejected_submits: 0, throttled: 0, receipts_sent: 0, deliver_acks: {}, mo_sent: 0,
    mo_acks: {}, enquire_links: 0, generic_nacks: 0, unknown_commands: 0,
  });
}
Object.assign(stats, { binds: 0, bind_failures: 0, unbinds: 0, drops: 0, connections: 0, refused_connections: 0 });
zeroMessageStats();

function later(ms, fn) {
  const t = setTimeout(() => { state.timers.delete(t); fn(); }, ms);
  state.timers.add(t);
  return t;
}
function cancel(t) {
  clearTimeout(t);
  state.timers.delete(t);
}

let sessionCounter = 0;
const sessions = new Set();  // {id, session, mode, system_id, closed}
const canReceive = (s) => !s.closed && (s.mode === 'transceiver' || s.mode === 'receiver');
const canTransmit = (s) => !s.closed && (s.mode === 'transceiver' || s.mode === 'transmitter');
let rr = 0;
function pickReceiver(preferred) {
  if (preferred && canReceive(preferred)) return preferred;
  const all = [...sessions].filter(canReceive);
  if (!all.length) return null;
  return all[rr++ % all.length];
}

function yymmddhhmm(ms) {
  const d = new Date(ms), p = (n) => String(n).padStart(2, '0');
  return p(d.getUTCFullYear() % 100) + p(d.getUTCMonth() + 1) + p(d.getUTCDate()) + p(d.getUTCHours()) + p(d.getUTCMinutes());
}

// --- receipts -------------------------------------------------------------------------------

function sendReceipt(r) {
  const s = pickReceiver(r.origin);
  if (!s) {
    state.pendingReceipts.push(r);
    return;
  }
  r.attempts++;
  const text = `id:${r.message_id} sub:001 dlvrd:${r.stat === 'DELIVRD' ? '001' : '000'} submit date:${yymmddhhmm(r.submit_ms)} ` +
    `done date:${yymmddhhmm(Date.now())} stat:${r.stat} err:${r.err} text:`;
  let answered = false;
  const onGone = () => {
    if (answered) return;
    answered = true;
    cancel(timer);
    log(`receipt ${r.message_id}: session ${s.id} went away before answering; kept for the next bind`);
    state.pendingReceipts.push(r);
  };
  const timer = later(10000, () => {
    s.session.removeListener('close', onGone);
    onGone();
  });
  s.session.once('close', onGone);
  const ok = s.session.deliver_sm({
    source_addr_ton: 1, source_addr_npi: 1, source_addr: r.to,
    dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: r.from,
    esm_class: 0x04, data_coding: 0, short_message: Buffer.from(text, 'ascii'),
    receipted_message_id: r.message_id, message_state: STATE[r.stat] || STATE.UNKNOWN,
  }, (resp) => {
    if (answered) return;
    answered = true;
    cancel(timer);
    s.session.removeListener('close', onGone);
    r.status = resp.command_status;
    r.ack_ms = Date.now();
    stats.deliver_acks[resp.command_status] = (stats.deliver_acks[resp.command_status] || 0) + 1;
    if (resp.command_status !== 0 && r.attempts < 6) later(1000, () => sendReceipt(r));
  });
  if (!ok) {
    answered = true;
    cancel(timer);
    s.session.removeListener('close', onGone);
    state.pendingReceipts.push(r);
    return;
  }
  stats.receipts_sent++;
  r.sent_ms = Date.now();
  if (r.attempts === 1) state.receipts.push(r);
}

function flushPendingReceipts() {
  const waiting = state.pendingReceipts;
  state.pendingReceipts = [];
  for (const r of waiting) sendReceipt(r);
}

// --- PDUs from an ESME ----------------------------------------------------------------------

function reply(s, pdu, fields, after) {
  if (s.closed) return false;
  return s.session.send(pdu.response(fields), after);
}

function onBind(s, pdu, mode) {
  if (s.mode) {
    stats.bind_failures++;
    reply(s, pdu, { command_status: smpp.ESME_RALYBND });
    return;
  }
  if (pdu.system_id !== opts.systemId || pdu.password !== opts.password) {
    stats.bind_failures++;
    log(`session ${s.id}: ${pdu.command} refused (system_id ${pdu.system_id})`);
    reply(s, pdu, { command_status: smpp.ESME_RBINDFAIL });
    return;
  }
  s.mode = mode;
  s.system_id = pdu.system_id;
  stats.binds++;
  log(`session ${s.id}: bound as ${mode}`);
  reply(s, pdu, { system_id: 'smsc-sim' }, () => {
    if (canReceive(s)) flushPendingReceipts();
  });
}

function onSubmit(s, pdu) {
  if (!canTransmit(s)) {
    reply(s, pdu, { command_status: smpp.ESME_RINVBNDSTS });
    return;
  }
  if (state.throttle > 0) {
    state.throttle--;
    stats.throttled++;
    reply(s, pdu, { command_status: smpp.ESME_RTHROTTLED });
    return;
  }
  const rule = state.rules.get(digits(pdu.destination_addr));
  if (rule && rule.submit_status) {
    stats.rejected_submits++;
    reply(s, pdu, { command_status: rule.submit_status });
    return;
  }
  let sm = Buffer.isBuffer(pdu.short_message) ? pdu.short_message : Buffer.alloc(0);
  if (!sm.length && Buffer.isBuffer(pdu.message_payload)) sm = pdu.message_payload;
  let udh = null, body = sm;
  if (pdu.esm_class & 0x40) ({ udh, body } = gsm.splitUdh(sm));
  const messageId = (state.nextId++).toString(16);
  const now = Date.now();
  const part = {
    seq: ++state.seq,
    message_id: messageId,
    session: s.id,
    source_addr: pdu.source_addr,
    destination_addr: pdu.destination_addr,
    source_addr_ton: pdu.source_addr_ton,
    dest_addr_ton: pdu.dest_addr_ton,
    data_coding: pdu.data_coding,
    esm_class: pdu.esm_class,
    registered_delivery: pdu.registered_delivery,
    udh,
    text: gsm.decodeText(pdu.data_coding, body),
    sm_hex: sm.toString('hex'),
    time_ms: now,
  };
  state.parts.push(part);
  stats.submits++;
  log(`session ${s.id}: submit_sm ${messageId} ${part.source_addr} -> ${part.destination_addr}: ${JSON.stringify(part.text)}`);
  const answer = () => reply(s, pdu, { message_id: messageId }, () => {
    const stat = (rule && rule.stat) || 'DELIVRD';
    const err = (rule && rule.err) || '000';
    const wanted = pdu.registered_delivery & 0x03;
    if (wanted === 1 || (wanted === 2 && FAILED.has(stat))) {
      later(opts.receiptDelayMs, () => sendReceipt({
        message_id: messageId, from: pdu.source_addr, to: pdu.destination_addr, stat, err,
        submit_ms: now, origin: s, attempts: 0, status: null, sent_ms: null, ack_ms: null,
      }));
    }
  });
  if (state.holdMs > 0) later(state.holdMs, answer);
  else answer();
}

function onSession(session) {
  stats.connections++;
  if (Date.now() < state.refuseUntil) {
    stats.refused_connections++;
    session.destroy();
    return;
  }
  const s = { id: ++sessionCounter, session, mode: null, system_id: null, closed: false, opened_ms: Date.now() };
  session.setMaxListeners(0);  // one 'close' listener per deliver_sm awaiting its answer
  sessions.add(s);
  log(`session ${s.id}: connected from ${session.socket.remoteAddress}:${session.socket.remotePort}`);
  session.on('error', (e) => {  // a reset, or a PDU the package could not frame: close
    log(`session ${s.id}: ${e.message}`);
    session.destroy();
  });
  session.on('close', () => {
    s.closed = true;
    sessions.delete(s);
    log(`session ${s.id}: closed`);
  });
  session.on('pdu', (pdu) => {
    switch (pdu.command) {
      case 'bind_transceiver': return onBind(s, pdu, 'transceiver');
      case 'bind_transmitter': return onBind(s, pdu, 'transmitter');
      case 'bind_receiver': return onBind(s, pdu, 'receiver');
      case 'submit_sm': return onSubmit(s, pdu);
      case 'enquire_link':
        stats.enquire_links++;
        return reply(s, pdu);
      case 'unbind':
        stats.unbinds++;
        s.mode = null;
        return reply(s, pdu, {}, () => session.close());
      case 'generic_nack':
        stats.generic_nacks++;
        return undefined;
      default:
        if (pdu.isResponse()) return undefined;  // deliver_sm_resp and the like: callbacks
        stats.unknown_commands++;
        return reply(s, pdu, { command_status: smpp.ESME_RINVCMDID });
    }
  });
}

// --- MO messages ----------------------------------------------------------------------------

let moRef = 0;
async function deliverMo({ from, to, text, ucs2 = false, wait_ms = 5000 }) {
  if (typeof from !== 'string' || typeof to !== 'string' || typeof text !== 'string') {
    return [400, { error: 'from, to and text (strings) are required' }];
  }
  const deadline = Date.now() + wait_ms;
  let s = pickReceiver();
  while (!s && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    s = pickReceiver();
  }
  if (!s) return [409, { error: 'no session bound as a receiver' }];
  moRef = (moRef + 1) & 0xff;
  const parts = gsm.encodeParts(text, { ucs2, ref: moRef });
  const statuses = [];
  for (const p of parts) {
    const status = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), 10000);
      const onClose = () => { clearTimeout(timer); resolve('closed'); };
      s.session.once('close', onClose);
      const ok = s.session.deliver_sm({
        source_addr_ton: 1, source_addr_npi: 1, source_addr: digits(from),
        dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: digits(to),
        esm_class: p.esm_class, data_coding: p.data_coding, short_message: p.short_message,
      }, (resp) => {
        clearTimeout(timer);
        s.session.removeListener('close', onClose);
        resolve(resp.command_status);
      });
      if (!ok) { clearTimeout(timer); s.session.removeListener('close', onClose); resolve('closed'); }
    });
    stats.mo_sent++;
    stats.mo_acks[status] = (stats.mo_acks[status] || 0) + 1;
    statuses.push(status);
    if (typeof status !== 'number') return [502, { error: `deliver_sm not answered (${status})`, statuses }];
  }
  return [200, { command_status: statuses[statuses.length - 1], statuses, parts: parts.length, session: s.id }];
}

// Parts joined into messages: concatenated parts by (source, destination, reference, total).
function messages() {
  const out = [], groups = new Map();
  for (const p of state.parts) {
    if (!p.udh || p.udh.total <= 1) {
      out.push({ source_addr: p.source_addr, destination_addr: p.destination_addr, data_coding: p.data_coding, text: p.text,
        parts: 1, complete: true, message_ids: [p.message_id], first_ms: p.time_ms, last_ms: p.time_ms });
      continue;
    }
    const key = `${p.source_addr}|${p.destination_addr}|${p.udh.ref}|${p.udh.total}`;
    let g = groups.get(key);
    if (!g || g.bySeq.has(p.udh.seq)) {  // a reused reference starts a new message
      g = { source_addr: p.source_addr, destination_addr: p.destination_addr, data_coding: p.data_coding, total: p.udh.total,
        bySeq: new Map(), message_ids: [], first_ms: p.time_ms, last_ms: p.time_ms };
      groups.set(key, g);
      out.push(g);
    }
    g.bySeq.set(p.udh.seq, p);
    g.message_ids.push(p.message_id);
    g.last_ms = p.time_ms;
  }
  return out.map((m) => {
    if (!m.bySeq) return m;
    const seqs = [...m.bySeq.keys()].sort((a, b) => a - b);
    return { source_addr: m.source_addr, destination_addr: m.destination_addr, data_coding: m.data_coding,
      text: seqs.map((k) => m.bySeq.get(k).text).join(''), parts: m.total, complete: seqs.length === m.total,
      message_ids: m.message_ids, first_ms: m.first_ms, last_ms: m.last_ms };
  });
}

// --- control API ----------------------------------------------------------------------------

function publicReceipt(r) {
  return { message_id: r.message_id, from: r.from, to: r.to, stat: r.stat, err: r.err, attempts: r.attempts,
    status: r.status, sent_ms: r.sent_ms, ack_ms: r.ack_ms };
}

async function route(method, url, body) {
  const path = url.pathname;
  if (method === 'GET' && path === '/submits') {
    const since = Number(url.searchParams.get('since') || 0);
    const to = url.searchParams.get('to');
    return [200, state.parts.filter((p) => p.seq > since && (!to || digits(p.destination_addr) === digits(to)))];
  }
  if (method === 'GET' && path === '/messages') return [200, messages()];
  if (method === 'GET' && path === '/stats') {
    return [200, { ...stats, unique_message_ids: new Set(state.parts.map((p) => p.message_id)).size,
      first_submit_ms: state.parts.length ? state.parts[0].time_ms : null,
      last_submit_ms: state.parts.length ? state.parts[state.parts.length - 1].time_ms : null,
      bound_sessions: [...sessions].filter((s) => s.mode).length, pending_receipts: state.pendingReceipts.length,
      throttle_left: state.throttle, hold_ms: state.holdMs }];
  }
  if (method === 'GET' && path === '/receipts') return [200, state.receipts.map(publicReceipt)];
  if (method === 'GET' && path === '/sessions') {
    return [200, [...sessions].map((s) => ({ id: s.id, mode: s.mode, system_id: s.system_id, opened_ms: s.opened_ms }))];
  }
  if (method !== 'POST') return [404, { error: `no ${method} ${path}` }];
  if (path === '/rule') {
    if (typeof body.to !== 'string' || !body.to) return [400, { error: 'to is required' }];
    const stat = body.stat === undefined ? 'DELIVRD' : String(body.stat).toUpperCase();
    if (!(stat in STATE)) return [400, { error: `unknown stat ${body.stat}` }];
    const err = body.err === undefined ? '000' : String(body.err).padStart(3, '0');
    state.rules.set(digits(body.to), { stat, err, submit_status: Number(body.submit_status || 0) });
    return [200, { to: digits(body.to), stat, err, submit_status: Number(body.submit_status || 0) }];
  }
  if (path === '/throttle') {
    const n = Number(body.count);
    if (!Number.isInteger(n) || n < 0) return [400, { error: 'count must be a whole number' }];
    state.throttle = n;
    return [200, { throttle: n }];
  }
  if (path === '/hold') {
    const ms = Number(body.ms);
    if (!Number.isFinite(ms) || ms < 0) return [400, { error: 'ms must be >= 0' }];
    state.holdMs = ms;
    return [200, { hold_ms: ms }];
  }
  if (path === '/drop') {
    const refuse = Number(body.refuse_ms || 0);
    state.refuseUntil = Date.now() + refuse;
    const n = sessions.size;
    for (const s of [...sessions]) {
      s.closed = true;
      s.session.destroy();
    }
    stats.drops++;
    return [200, { dropped: n, refuse_ms: refuse }];
  }
  if (path === '/deliver') return deliverMo(body);
  if (path === '/reset') {
    state.parts = [];
    state.receipts = [];
    state.pendingReceipts = [];
    state.rules.clear();
    state.throttle = 0;
    state.holdMs = 0;
    state.refuseUntil = 0;
    zeroMessageStats();
    return [200, { reset: true }];
  }
  return [404, { error: `no ${method} ${path}` }];
}

const control = http.createServer((req, res) => {
  let raw = '';
  req.setEncoding('utf8');
  req.on('data', (c) => { raw += c; });
  req.on('end', async () => {
    let code, out;
    try {
      const body = raw ? JSON.parse(raw) : {};
      [code, out] = await route(req.method, new URL(req.url, 'http://control'), body || {});
    } catch (e) {
      [code, out] = [400, { error: String(e && e.message || e) }];
    }
    const text = JSON.stringify(out);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  });
});

const server = smpp.createServer(onSession);
server.on('error', (e) => {
  console.error(`smsc: ${e.message}`);
  process.exit(1);
});
control.on('error', (e) => {
  console.error(`smsc: control: ${e.message}`);
  process.exit(1);
});

server.listen(opts.port, opts.host, () => {
  control.listen(opts.controlPort, '127.0.0.1', () => {
    console.log(`smsc listening ${server.address().port} control ${control.address().port}`);
  });
});

function shutdown(signal) {
  log(`${signal}: stopping`);
  for (const t of state.timers) clearTimeout(t);
  for (const s of [...sessions]) s.session.destroy();
  control.close();
  server.close(() => process.exit(0));
  control.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
