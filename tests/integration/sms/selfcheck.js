// Checks smsc.js on its own, as an ESME built on the same `smpp` package would see it, and
// shows how the simulator is driven: it starts smsc.js on free ports, binds, submits, gets
// receipts, is throttled, held, dropped, and receives an MO message. Exits 0 when all is well.
//
//   NODE_PATH=.../node_modules node tests/integration/sms/selfcheck.js
'use strict';
const assert = require('assert');
const path = require('path');
const { spawn } = require('child_process');
const smpp = require('smpp');
const gsm = require('./gsm');

delete smpp.commands.deliver_sm.params.short_message.filter;  // raw octets, decoded by gsm.js
delete smpp.commands.submit_sm.params.short_message.filter;   // we send Buffers we built

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startSmsc() {
  const child = spawn(process.execPath, [path.join(__dirname, 'smsc.js'), '--port', '0', '--control-port', '0',
    '--receipt-delay-ms', '20'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      const m = out.match(/^smsc listening (\d+) control (\d+)$/m);
      if (m) resolve({ child, port: Number(m[1]), control: `http://127.0.0.1:${m[2]}` });
    });
    child.on('exit', (code) => reject(new Error(`smsc exited with ${code}`)));
  });
}

async function api(base, method, p, body) {
  const res = await fetch(base + p, { method, headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

// An ESME session: resolves once connected; `call` sends a PDU and resolves with the answer.
function connect(port) {
  return new Promise((resolve, reject) => {
    const session = smpp.connect({ host: '127.0.0.1', port }, () => resolve(session));
    session.on('error', reject);
  });
}
const call = (session, command, fields = {}) => new Promise((resolve) => session[command](fields, resolve));

async function main() {
  const smsc = await startSmsc();
  const ctl = (m, p, b) => api(smsc.control, m, p, b);
  try {
    // A wrong password is refused; the right one binds.
    let s = await connect(smsc.port);
    let r = await call(s, 'bind_transceiver', { system_id: 'sb', password: 'wrong' });
    assert.strictEqual(r.command_status, smpp.ESME_RBINDFAIL);
    s.destroy();
    s = await connect(smsc.port);
    r = await call(s, 'bind_transceiver', { system_id: 'sb', password: 'secret' });
    assert.strictEqual(r.command_status, 0);
    assert.strictEqual((await call(s, 'enquire_link')).command_status, 0);

    const delivered = [];
    s.on('deliver_sm', (pdu) => {
      delivered.push(pdu);
      s.send(pdu.response());
    });

    // One GSM part with a receipt asked for.
    const text = 'Hello {world} €5 @ home';
    r = await call(s, 'submit_sm', { source_addr: '15005550001', destination_addr: '15005550999', registered_delivery: 1,
      data_coding: 0, short_message: gsm.encodeGsm(text) });
    assert.strictEqual(r.command_status, 0);
    assert.match(r.message_id, /^[0-9a-f]+$/);
    const id = r.message_id;
    let parts = (await ctl('GET', '/submits')).json;
    assert.strictEqual(parts.length, 1);
    assert.strictEqual(parts[0].text, text);
    assert.strictEqual(parts[0].message_id, id);
    assert.strictEqual(parts[0].destination_addr, '15005550999');
    assert.strictEqual(parts[0].udh, null);
    for (let i = 0; i < 50 && delivered.length < 1; i++) await sleep(20);
    assert.strictEqual(delivered.length, 1, 'no receipt');
    const rc = delivered[0];
    assert.strictEqual(rc.esm_class, 0x04);
    assert.strictEqual(rc.receipted_message_id, id);
    assert.strictEqual(rc.message_state, 2);
    assert.match(rc.short_message.toString('ascii'),
      new RegExp(`^id:${id} sub:001 dlvrd:001 submit date:\\d{10} done date:\\d{10} stat:DELIVRD err:000 text:$`));

    // A long UCS-2 text in two parts with a surrogate pair cut between them joins again.
    const long = 'Καλημέρα '.repeat(7) + 'abc😀' + 'x'.repeat(10);  // the emoji's halves: units 66 and 67
    const units = gsm.encodeUcs2(long);
    const cut = 67 * 2;
    for (const [seq, bytes] of [[1, units.subarray(0, cut)], [2, units.subarray(cut)]]) {
      r = await call(s, 'submit_sm', { source_addr: '15005550001', destination_addr: '15005550998', esm_class: 0x40,
        data_coding: 8, short_message: Buffer.concat([Buffer.from([5, 0, 3, 0x2a, 2, seq]), bytes]) });
      assert.strictEqual(r.command_status, 0);
    }
    parts = (await ctl('GET', '/submits?to=%2B15005550998')).json;
    assert.deepStrictEqual(parts.map((p) => p.udh), [{ ref: 0x2a, total: 2, seq: 1 }, { ref: 0x2a, total: 2, seq: 2 }]);
    assert.deepStrictEqual(parts.map((p) => p.data_coding), [8, 8]);
    const joined = (await ctl('GET', '/messages')).json.find((m) => m.destination_addr === '15005550998');
    assert.strictEqual(joined.text, long);
    assert.strictEqual(joined.complete, true);

    // A rule: the receipt says UNDELIV with the error code and message_state 5.
    await ctl('POST', '/rule', { to: '+15005550997', stat: 'UNDELIV', err: '12' });
    r = await call(s, 'submit_sm', { source_addr: '1', destination_addr: '15005550997', registered_delivery: 1,
      short_message: gsm.encodeGsm('x') });
    for (let i = 0; i < 50 && delivered.length < 2; i++) await sleep(20);
    assert.strictEqual(delivered[1].message_state, 5);
    assert.match(delivered[1].short_message.toString(), /stat:UNDELIV err:012 text:$/);
    const receipts = (await ctl('GET', '/receipts')).json;
    assert.deepStrictEqual(receipts.map((x) => [x.stat, x.status]), [['DELIVRD', 0], ['UNDELIV', 0]]);

    // Throttling: the next 2 submits get ESME_RTHROTTLED, the third goes through.
    await ctl('POST', '/throttle', { count: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await call(s, 'submit_sm', { source_addr: '1', destination_addr: '2', short_message: gsm.encodeGsm(`t${i}`) })).command_status);
    }
    assert.deepStrictEqual(statuses, [smpp.ESME_RTHROTTLED, smpp.ESME_RTHROTTLED, 0]);

    // Hold: the answer waits.
    await ctl('POST', '/hold', { ms: 300 });
    const t0 = Date.now();
    await call(s, 'submit_sm', { source_addr: '1', destination_addr: '2', short_message: gsm.encodeGsm('held') });
    assert.ok(Date.now() - t0 >= 280, `held only ${Date.now() - t0} ms`);
    await ctl('POST', '/hold', { ms: 0 });

    // MO: a long GSM text arrives as two UDH parts, each answered.
    const before = delivered.length;
    const mo = 'M'.repeat(200);
    r = await ctl('POST', '/deliver', { from: '+15005550999', to: '+15005550001', text: mo });
    assert.strictEqual(r.status, 200);
    assert.deepStrictEqual(r.json.statuses, [0, 0]);
    const moParts = delivered.slice(before);
    assert.strictEqual(moParts.length, 2);
    assert.strictEqual(moParts[0].source_addr, '15005550999');
    const moText = moParts.map((p) => gsm.decodeGsm(gsm.splitUdh(p.short_message).body)).join('');
    assert.strictEqual(moText, mo);

    let st = (await ctl('GET', '/stats')).json;
    assert.strictEqual(st.binds, 1);
    assert.strictEqual(st.bind_failures, 1);
    assert.strictEqual(st.submits, 6);
    assert.strictEqual(st.throttled, 2);
    assert.strictEqual(st.unique_message_ids, 6);
    assert.strictEqual(st.receipts_sent, 2);
    assert.deepStrictEqual(st.deliver_acks, { 0: 2 });

    // A dropped bind closes the socket; a receipt due meanwhile waits for the next bind.
    await ctl('POST', '/hold', { ms: 200 });
    const pending = call(s, 'submit_sm', { source_addr: '1', destination_addr: '3', registered_delivery: 1, short_message: gsm.encodeGsm('lost answer') });
    await sleep(50);
    const closed = new Promise((res) => s.once('close', res));
    r = await ctl('POST', '/drop', {});
    assert.strictEqual(r.json.dropped, 1);
    await closed;
    void pending;  // never answered: the connection broke first (a duplicate risk for an ESME)
    await ctl('POST', '/hold', { ms: 0 });
    s = await connect(smsc.port);
    assert.strictEqual((await call(s, 'bind_transceiver', { system_id: 'sb', password: 'secret' })).command_status, 0);
    st = (await ctl('GET', '/stats')).json;
    assert.strictEqual(st.binds, 2);
    assert.strictEqual(st.submits, 7, 'a submit whose answer was lost still reached the SMSC');
    assert.strictEqual(st.pending_receipts, 0);
    await call(s, 'unbind');
    assert.strictEqual((await ctl('GET', '/stats')).json.unbinds, 1);

    await ctl('POST', '/reset', {});
    st = (await ctl('GET', '/stats')).json;
    assert.strictEqual(st.submits, 0);
    assert.strictEqual((await ctl('GET', '/submits')).json.length, 0);
    console.log('smsc selfcheck: ok');
  } finally {
    smsc.child.removeAllListeners('exit');
    const gone = new Promise((res) => smsc.child.once('exit', res));
    smsc.child.kill('SIGTERM');
    const code = await gone;
    assert.strictEqual(code, 0, `smsc exited with ${code} on SIGTERM`);
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(`smsc selfcheck: FAIL ${e && e.stack || e}`);
  process.exit(1);
});
