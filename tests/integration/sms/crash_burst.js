// The kill -9 test's two halves (sms_flow.sh runs them around a restart of serve).
//
// send: POSTs Messages.json with bodies "crash N" (N = 0, 1, ...) from `--concurrency`
//   workers until `--count` were accepted (201). After `--kill-after` accepted answers it sends
//   SIGKILL to `--kill-pid` (the serve), then waits for the API to answer again (the shell
//   restarts serve on the same address) and goes on. A request that got no answer (the kill
//   cut it) is "uncertain": it may or may not have been committed, and is not sent again.
//   Writes {accepted: [{n, sid}], uncertain: [n], refused: [{n, status}], killed_at_ms} to --out.
//
// verify: waits until every accepted body reached the SMSC, then counts duplicates (a body
//   submitted more than once) and requires them to be at most what the restarted serve logged
//   as re-sent after an unacknowledged submit (`resent_unacknowledged=N` in --serve-logs) or,
//   when no log says, at most --window; then waits until every accepted message is
//   "delivered" in the API.
//
//   node crash_burst.js send --base URL --account AC --token T --from N --to N --count 2000
//        --concurrency 20 --kill-after 800 --kill-pid PID --out FILE
//   node crash_burst.js verify --base URL --account AC --token T --to N --smsc URL --in FILE
//        --serve-logs OUT,ERR --window 10 [--timeout 180]
'use strict';
const fs = require('fs');

const [mode, ...rest] = process.argv.slice(2);
const o = {};
for (let i = 0; i < rest.length; i += 2) o[rest[i].replace(/^--/, '')] = rest[i + 1];
const need = (k) => {
  if (o[k] === undefined) {
    console.error(`crash_burst: --${k} is required`);
    process.exit(2);
  }
  return o[k];
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const BASE = need('base').replace(/\/+$/, '');
const AUTH = 'Basic ' + Buffer.from(`${need('account')}:${need('token')}`).toString('base64');
const MESSAGES = `/2010-04-01/Accounts/${o.account}/Messages.json`;

async function apiUp(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${BASE}/2010-04-01/Accounts/${o.account}.json`, { headers: { Authorization: AUTH } });
      await r.arrayBuffer();
      if (r.status === 200) return;
    } catch (e) { /* not up yet */ }
    await sleep(100);
  }
  throw new Error(`the API did not come back within ${timeoutMs} ms`);
}

async function send() {
  const count = Number(need('count')), concurrency = Number(o.concurrency || 20);
  const killAfter = Number(need('kill-after')), killPid = Number(need('kill-pid'));
  const from = need('from'), to = need('to');
  const accepted = [], uncertain = [], refused = [];
  let next = 0, inflight = 0, killedAt = null, recovering = null;
  const t0 = Date.now();

  const recover = () => {
    if (!recovering) recovering = apiUp(60000).finally(() => { recovering = null; });
    return recovering;
  };
  const worker = async () => {
    while (accepted.length + inflight < count) {
      if (recovering) await recovering;
      const n = next++;
      inflight++;
      try {
        const res = await fetch(BASE + MESSAGES, {
          method: 'POST',
          headers: { Authorization: AUTH, 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ To: to, From: from, Body: `crash ${n}` }).toString(),
        });
        const json = await res.json().catch(() => null);
        if (res.status === 201 && json && json.sid) {
          accepted.push({ n, sid: json.sid });
          if (killedAt === null && accepted.length >= killAfter) {
            killedAt = Date.now();
            process.kill(killPid, 'SIGKILL');
            console.log(`crash_burst: killed serve ${killPid} after ${accepted.length} accepted (${killedAt - t0} ms)`);
          }
        } else {
          refused.push({ n, status: res.status, code: json && json.code });
          if (res.status === 429 || res.status >= 500) await sleep(50);
        }
      } catch (e) {
        const code = e && e.cause && e.cause.code;
        if (code === 'ECONNREFUSED') refused.push({ n, status: code });  // never reached serve
        else uncertain.push(n);
        inflight--;
        await recover();
        continue;
      }
      inflight--;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const secs = (Date.now() - t0) / 1000;
  fs.writeFileSync(need('out'), JSON.stringify({ accepted, uncertain, refused, killed_at_ms: killedAt }));
  console.log(`crash_burst: ${accepted.length} accepted, ${uncertain.length} unanswered at the kill, ${refused.length} refused, ` +
    `in ${secs.toFixed(1)} s`);
  if (killedAt === null) throw new Error('serve was never killed');
  if (refused.length) console.log(`crash_burst: refusals ${JSON.stringify(refused.slice(0, 5))}`);
}

async function verify() {
  const SMSC = need('smsc').replace(/\/+$/, '');
  const run = JSON.parse(fs.readFileSync(need('in'), 'utf8'));
  const window = Number(o.window || 10);
  const timeoutMs = Number(o.timeout || 180) * 1000;
  const want = new Set(run.accepted.map((a) => `crash ${a.n}`));
  const deadline = Date.now() + timeoutMs;
  let counts, missing;
  for (;;) {
    const parts = await (await fetch(`${SMSC}/submits?to=${encodeURIComponent(need('to'))}`)).json();
    counts = new Map();
    for (const p of parts) if (p.text.startsWith('crash ')) counts.set(p.text, (counts.get(p.text) || 0) + 1);
    missing = [...want].filter((b) => !counts.has(b));
    if (!missing.length || Date.now() > deadline) break;
    await sleep(500);
  }
  // The restarted serve's count of submits it sent again after an unacknowledged one; -1
  // when its logs do not say.
  let resent = -1;
  for (const f of need('serve-logs').split(',')) {
    let text = '';
    try { text = fs.readFileSync(f, 'utf8'); } catch (e) { continue; }
    for (const m of text.matchAll(/resent_unacknowledged=(\d+)/g)) resent = Math.max(resent, Number(m[1]));
  }
  const dups = [...counts].filter(([, c]) => c > 1);
  const extra = dups.reduce((s, [, c]) => s + c - 1, 0);
  const uncertainArrived = run.uncertain.filter((n) => counts.has(`crash ${n}`)).length;
  const strangers = [...counts.keys()].filter((b) => !want.has(b) && !run.uncertain.includes(Number(b.slice(6))));
  console.log(`crash_burst: ${want.size} accepted, ${want.size - missing.length} of them at the SMSC; ` +
    `${run.uncertain.length} unanswered (${uncertainArrived} of them arrived); ${extra} duplicate submits ` +
    `(${dups.slice(0, 10).map(([b, c]) => `"${b}" x${c}`).join(', ')}); serve re-sent ${resent < 0 ? 'unknown' : resent}`);
  let ok = true;
  if (missing.length) {
    console.log(`FAIL crash: ${missing.length} accepted messages never reached the SMSC, e.g. ${missing.slice(0, 5).join(', ')}`);
    ok = false;
  }
  if (strangers.length) {
    console.log(`FAIL crash: bodies nobody sent reached the SMSC: ${strangers.slice(0, 5).join(', ')}`);
    ok = false;
  }
  const allowed = resent >= 0 ? resent : window;
  if (extra > allowed) {
    console.log(`FAIL crash: ${extra} duplicate submits, more than ${resent >= 0 ? 're-sent unacknowledged' : 'the window'} (${allowed})`);
    ok = false;
  }
  if (!ok) process.exit(1);

  // Every accepted message ends delivered.
  const sids = new Map(run.accepted.map((a) => [a.sid, null]));
  let notDelivered;
  for (;;) {
    let path = `${MESSAGES}?To=${encodeURIComponent(need('to'))}&PageSize=1000`;
    while (path) {
      const r = await fetch(BASE + path, { headers: { Authorization: AUTH } });
      if (r.status !== 200) throw new Error(`list: HTTP ${r.status}`);
      const page = await r.json();
      for (const m of page.messages) if (sids.has(m.sid)) sids.set(m.sid, m.status);
      path = page.next_page_uri;
    }
    notDelivered = [...sids].filter(([, s]) => s !== 'delivered');
    if (!notDelivered.length || Date.now() > deadline + 60000) break;
    await sleep(1000);
  }
  if (notDelivered.length) {
    const by = {};
    for (const [, s] of notDelivered) by[s] = (by[s] || 0) + 1;
    console.log(`FAIL crash: ${notDelivered.length} accepted messages are not delivered: ${JSON.stringify(by)}`);
    process.exit(1);
  }
  console.log(`ok   crash: all ${want.size} accepted messages reached the SMSC and are delivered; ${extra} duplicates <= ${allowed}`);
}

(mode === 'send' ? send() : mode === 'verify' ? verify() : Promise.reject(new Error('mode: send or verify')))
  .then(() => process.exit(0), (e) => {
    console.log(`FAIL crash: ${(e && e.message) || e}`);
    process.exit(1);
  });
