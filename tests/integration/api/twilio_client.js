// Drives a running `switchboard serve` through the official Twilio Node library (6.2.0),
// pointed at it as ../shared/testdata/twilio/API_NOTES.md describes, and checks what comes
// back, down to the raw JSON where the library would hide a difference.
//
// Environment (set by api_twilio.sh): BASE_URL, ACCOUNT_SID, AUTH_TOKEN (an account the
// test owns), OTHER_SID, OTHER_TOKEN, OTHER_NUMBER_SID (a second account and one of its
// numbers), DEV_KEY_SID, DEV_KEY_SECRET (a developer's API key in the first account),
// RO_KEY_SID, RO_KEY_SECRET (a read-only user's key).
// Prints one line per check and "N passed, M failed"; exits 1 when anything failed.
'use strict';
const assert = require('assert');
const twilio = require('twilio');

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const BASE = env('BASE_URL').replace(/\/+$/, '');
const AC = env('ACCOUNT_SID');
const TOKEN = env('AUTH_TOKEN');

class Rewriting {
  constructor() { this.inner = new twilio.RequestClient(); }
  request(o) {
    return this.inner.request({ ...o, uri: o.uri.replace(/^https?:\/\/[^/]*twilio\.com(:\d+)?/i, BASE) });
  }
}
const clientFor = (user, pass, opts = {}) => twilio(user, pass, { httpClient: new Rewriting(), ...opts });
const client = clientFor(AC, TOKEN);

// A raw request, for status codes and JSON the library does not show.
async function raw(method, path, { user = AC, pass = TOKEN, body, headers = {} } = {}) {
  const h = { Authorization: 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64'), ...headers };
  if (body !== undefined && !h['Content-Type']) h['Content-Type'] = 'application/x-www-form-urlencoded';
  const res = await fetch(BASE + path, { method, headers: h, body });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
  return { status: res.status, json, text, headers: res.headers };
}

async function rejects(promise, status, code) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof twilio.RestException, `want RestException, got ${e && e.constructor && e.constructor.name}: ${e}`);
    assert.strictEqual(e.status, status, `status ${e.status}, want ${status} (${e.message})`);
    if (code !== undefined) assert.strictEqual(e.code, code, `code ${e.code}, want ${code}`);
    assert.ok(e.message && e.message.length > 0, 'no message');
    assert.ok(String(e.moreInfo).startsWith('https://www.twilio.com/docs/errors/'), `more_info ${e.moreInfo}`);
    return e;
  }
  assert.fail(`resolved; want HTTP ${status}`);
}

const RFC2822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000$/;
const SID = (p) => new RegExp(`^${p}[0-9a-f]{32}$`);
const uniq = Date.now() % 1000000;
const num = (i) => `+1555${String(uniq).padStart(6, '0')}${i}`;  // 11 digits after +

const checks = [];
const check = (name, fn) => checks.push({ name, fn });
const state = {};

check('accounts: fetch by SID, RFC 2822 dates, owner sees the token', async () => {
  const a = await client.api.v2010.accounts(AC).fetch();
  assert.strictEqual(a.sid, AC);
  assert.strictEqual(a.status, 'active');
  assert.strictEqual(a.authToken, TOKEN);
  const r = await raw('GET', `/2010-04-01/Accounts/${AC}.json`);
  assert.strictEqual(r.status, 200);
  assert.match(r.json.date_created, RFC2822);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  assert.strictEqual(r.json.uri, `/2010-04-01/Accounts/${AC}.json`);
});

check('numbers: create 7 (201, PN SIDs, echoed URLs)', async () => {
  state.numbers = [];
  for (let i = 0; i < 7; i++) {
    const n = await client.incomingPhoneNumbers.create({
      phoneNumber: num(i), voiceUrl: `http://127.0.0.1:9/voice?n=${i}`, smsUrl: 'https://example.com/sms', friendlyName: `line ${i}`,
    });
    assert.match(n.sid, SID('PN'));
    assert.strictEqual(n.phoneNumber, num(i));
    assert.strictEqual(n.voiceUrl, `http://127.0.0.1:9/voice?n=${i}`);
    assert.strictEqual(n.smsUrl, 'https://example.com/sms');
    assert.strictEqual(n.friendlyName, `line ${i}`);
    assert.strictEqual(n.accountSid, AC);
    assert.deepStrictEqual(n.capabilities, { voice: true, sms: true, mms: false, fax: false });
    state.numbers.push(n.sid);
  }
  const r = await raw('POST', `/2010-04-01/Accounts/${AC}/IncomingPhoneNumbers.json`,
    { body: `PhoneNumber=${encodeURIComponent(num(7))}&FriendlyName=raw%20one` });
  assert.strictEqual(r.status, 201);
  assert.match(r.json.date_created, RFC2822);
  assert.strictEqual(r.json.friendly_name, 'raw one');
  assert.strictEqual(r.json.uri, `/2010-04-01/Accounts/${AC}/IncomingPhoneNumbers/${r.json.sid}.json`);
  state.numbers.push(r.json.sid);
});

check('numbers: list across pages (PageSize 3) through next_page_uri', async () => {
  const all = await client.incomingPhoneNumbers.list({ pageSize: 3 });
  const sids = all.map((n) => n.sid);
  assert.deepStrictEqual([...sids].sort(), [...state.numbers].sort());
  let page = await client.incomingPhoneNumbers.page({ pageSize: 3 });
  let pages = 1;
  while (page.nextPageUrl) { page = await page.nextPage(); pages++; }
  assert.strictEqual(pages, 3);
  const r = await raw('GET', `/2010-04-01/Accounts/${AC}/IncomingPhoneNumbers.json?PageSize=3`);
  for (const k of ['page', 'page_size', 'uri', 'first_page_uri', 'next_page_uri', 'previous_page_uri', 'start', 'end'])
    assert.ok(k in r.json, `envelope has no ${k}`);
  assert.strictEqual(r.json.page, 0);
  assert.strictEqual(r.json.incoming_phone_numbers.length, 3);
  const limited = await client.incomingPhoneNumbers.list({ limit: 2 });
  assert.strictEqual(limited.length, 2);
  const filtered = await client.incomingPhoneNumbers.list({ phoneNumber: num(4) });
  assert.deepStrictEqual(filtered.map((n) => n.sid), [state.numbers[4]]);
});

check('numbers: fetch, update, delete', async () => {
  const sid = state.numbers[0];
  const n = await client.incomingPhoneNumbers(sid).fetch();
  assert.strictEqual(n.phoneNumber, num(0));
  const u = await client.incomingPhoneNumbers(sid).update({ voiceUrl: 'https://example.com/v2', voiceMethod: 'GET', friendlyName: 'renamed' });
  assert.strictEqual(u.voiceUrl, 'https://example.com/v2');
  assert.strictEqual(u.voiceMethod, 'GET');
  assert.strictEqual(u.friendlyName, 'renamed');
  assert.strictEqual(u.smsUrl, 'https://example.com/sms', 'an update keeps what it did not name');
  const again = await client.incomingPhoneNumbers(sid).fetch();
  assert.strictEqual(again.friendlyName, 'renamed');
  const removed = await client.incomingPhoneNumbers(state.numbers[6]).remove();
  assert.strictEqual(removed, true);
  await rejects(client.incomingPhoneNumbers(state.numbers[6]).fetch(), 404, 20404);
  state.numbers.splice(6, 1);
});

check('numbers: porting status and SMS-only hosting (Switchboard fields)', async () => {
  const r = await raw('POST', `/2010-04-01/Accounts/${AC}/IncomingPhoneNumbers/${state.numbers[1]}.json`,
    { body: 'PortingStatus=loa-received&Hosting=sms-only' });
  assert.strictEqual(r.status, 200);
  assert.strictEqual(r.json.porting_status, 'loa-received');
  assert.strictEqual(r.json.hosting, 'sms-only');
  assert.strictEqual(r.json.origin, 'hosted');
  assert.strictEqual(r.json.capabilities.voice, false);
  assert.strictEqual(r.json.capabilities.sms, true);
  const bad = await raw('POST', `/2010-04-01/Accounts/${AC}/IncomingPhoneNumbers/${state.numbers[1]}.json`,
    { body: 'PortingStatus=done' });
  assert.strictEqual(bad.status, 400);
});

check('errors: invalid and duplicate numbers, unknown parameter, bad URL', async () => {
  await rejects(client.incomingPhoneNumbers.create({ phoneNumber: 'abc' }), 400, 21421);
  await rejects(client.incomingPhoneNumbers.create({ phoneNumber: num(1) }), 400, 21422);
  await rejects(client.incomingPhoneNumbers.create({ phoneNumber: num(8), voiceUrl: 'ftp://x' }), 400, 21205);
  const r = await raw('POST', `/2010-04-01/Accounts/${AC}/IncomingPhoneNumbers.json`, { body: `PhoneNumber=${encodeURIComponent(num(8))}&Colour=blue` });
  assert.strictEqual(r.status, 400);
  assert.match(r.json.message, /Colour/);
  assert.deepStrictEqual(Object.keys(r.json).sort(), ['code', 'message', 'more_info', 'status']);
  const none = await client.incomingPhoneNumbers.list({ phoneNumber: num(8) });
  assert.strictEqual(none.length, 0, 'a refused create wrote nothing');
});

check('errors: malformed form and oversized body', async () => {
  const bad = await raw('POST', `/2010-04-01/Accounts/${AC}/IncomingPhoneNumbers.json`, { body: 'PhoneNumber=%ZZ' });
  assert.strictEqual(bad.status, 400);
  const big = await raw('POST', `/2010-04-01/Accounts/${AC}/IncomingPhoneNumbers.json`, { body: 'FriendlyName=' + 'x'.repeat(2 * 1024 * 1024) });
  assert.strictEqual(big.status, 413);
  assert.strictEqual(big.json.status, 413);
  const after = await raw('GET', `/2010-04-01/Accounts/${AC}.json`);
  assert.strictEqual(after.status, 200, 'the server still answers');
});

check('errors: SQL-shaped text is stored as text', async () => {
  const name = "x'); DROP TABLE phone_numbers;--";
  const n = await client.incomingPhoneNumbers(state.numbers[2]).update({ friendlyName: name });
  assert.strictEqual(n.friendlyName, name);
  const all = await client.incomingPhoneNumbers.list();
  assert.strictEqual(all.length, state.numbers.length);
  const found = await client.incomingPhoneNumbers.list({ friendlyName: name });
  assert.deepStrictEqual(found.map((x) => x.sid), [state.numbers[2]]);
});

check('errors: wrong credentials are a 401 RestException with code 20003', async () => {
  await rejects(clientFor(AC, 'f'.repeat(32)).incomingPhoneNumbers.list(), 401, 20003);
  await rejects(clientFor(AC, TOKEN.slice(0, 31) + (TOKEN[31] === '0' ? '1' : '0')).api.v2010.accounts(AC).fetch(), 401, 20003);
  const r = await raw('GET', `/2010-04-01/Accounts/${AC}.json`, { user: AC, pass: 'nope' });
  assert.strictEqual(r.status, 401);
  assert.match(r.headers.get('www-authenticate') || '', /^Basic/);
});

check("isolation: another account's resources are 404, never 403", async () => {
  const other = env('OTHER_SID');
  await rejects(client.api.v2010.accounts(other).fetch(), 404, 20404);
  await rejects(client.api.v2010.accounts(other).incomingPhoneNumbers.list(), 404, 20404);
  await rejects(client.incomingPhoneNumbers(env('OTHER_NUMBER_SID')).fetch(), 404, 20404);
  await rejects(client.incomingPhoneNumbers(env('OTHER_NUMBER_SID')).remove(), 404, 20404);
  const otherClient = clientFor(other, env('OTHER_TOKEN'));
  const theirs = await otherClient.incomingPhoneNumbers(env('OTHER_NUMBER_SID')).fetch();
  assert.strictEqual(theirs.accountSid, other, 'the other account still has its number');
  await rejects(otherClient.incomingPhoneNumbers(state.numbers[0]).fetch(), 404, 20404);
});

check('subaccounts: create, list, reach from the parent, suspend', async () => {
  const sub = await client.api.v2010.accounts.create({ friendlyName: 'Sub one' });
  assert.match(sub.sid, SID('AC'));
  assert.strictEqual(sub.ownerAccountSid, AC);
  assert.strictEqual(sub.friendlyName, 'Sub one');
  assert.match(sub.authToken, /^[0-9a-f]{32}$/);
  const list = await client.api.v2010.accounts.list();
  assert.deepStrictEqual(list.map((a) => a.sid).sort(), [AC, sub.sid].sort());
  const n = await client.api.v2010.accounts(sub.sid).incomingPhoneNumbers.create({ phoneNumber: num(9) });
  assert.strictEqual(n.accountSid, sub.sid);
  const subClient = clientFor(sub.sid, sub.authToken);
  const mine = await subClient.incomingPhoneNumbers.list();
  assert.deepStrictEqual(mine.map((x) => x.sid), [n.sid]);
  await rejects(subClient.api.v2010.accounts(AC).fetch(), 404, 20404);
  await rejects(subClient.api.v2010.accounts.create({ friendlyName: 'grandchild' }), 403, 20403);
  const suspended = await client.api.v2010.accounts(sub.sid).update({ status: 'suspended' });
  assert.strictEqual(suspended.status, 'suspended');
  await rejects(subClient.incomingPhoneNumbers.list(), 401, 20005);
  const active = await client.api.v2010.accounts(sub.sid).update({ status: 'active' });
  assert.strictEqual(active.status, 'active');
  assert.strictEqual((await subClient.incomingPhoneNumbers.list()).length, 1);
});

check('API keys: a developer key works as Basic auth, roles are enforced', async () => {
  const dev = clientFor(env('DEV_KEY_SID'), env('DEV_KEY_SECRET'), { accountSid: AC });
  const list = await dev.incomingPhoneNumbers.list();
  assert.strictEqual(list.length, state.numbers.length);
  const n = await dev.incomingPhoneNumbers.create({ phoneNumber: num(10) });
  state.numbers.push(n.sid);
  const ro = clientFor(env('RO_KEY_SID'), env('RO_KEY_SECRET'), { accountSid: AC });
  assert.strictEqual((await ro.incomingPhoneNumbers.list()).length, state.numbers.length);
  await rejects(ro.incomingPhoneNumbers.create({ phoneNumber: '+15550000001' }), 403, 20403);
  await rejects(clientFor(env('DEV_KEY_SID'), 'wrong', { accountSid: AC }).incomingPhoneNumbers.list(), 401, 20003);
  const audit = await raw('GET', `/2010-04-01/Accounts/${AC}/AuditEvents.json`, { user: env('DEV_KEY_SID'), pass: env('DEV_KEY_SECRET') });
  assert.strictEqual(audit.status, 403);
});

check('balance: decimal string and currency', async () => {
  const b = await client.balance.fetch();
  assert.strictEqual(b.accountSid, AC);
  assert.match(b.balance, /^-?\d+\.\d{2,5}$/);
  assert.strictEqual(b.currency, 'USD');
});

check('usage: records list counts the numbers held', async () => {
  const records = await client.usage.records.list();
  const pn = records.find((r) => r.category === 'phonenumbers');
  assert.ok(pn, 'no phonenumbers record');
  assert.strictEqual(pn.count, String(state.numbers.length));
  assert.strictEqual(pn.accountSid, AC);
  const r = await raw('GET', `/2010-04-01/Accounts/${AC}/Usage/Records.json?Category=phonenumbers`);
  assert.match(r.json.usage_records[0].start_date, /^\d{4}-\d\d-\d\d$/);
});

check('audit: every request is logged, owners read it', async () => {
  await new Promise((res) => setTimeout(res, 200));  // the audit writer commits in batches
  const r = await raw('GET', `/2010-04-01/Accounts/${AC}/AuditEvents.json?PageSize=1000`);
  assert.strictEqual(r.status, 200);
  const events = r.json.audit_events;
  assert.ok(events.length >= 30, `only ${events.length} events`);
  // Failed authentications from one address are coalesced: the first is a row at once, the
  // rest one row with their count when the window (api.audit_failure_window) ends.
  const failed = events.filter((e) => e.status === 401);
  assert.ok(failed.length >= 1, 'failed authentications are logged in the account they aimed at');
  assert.ok(failed.every((e) => e.count >= 1), 'a failure row has a count');
  const byKey = events.filter((e) => e.principal === env('DEV_KEY_SID'));
  assert.ok(byKey.some((e) => e.method === 'POST' && e.status === 201), 'the developer key created a number');
  assert.ok(byKey.some((e) => e.status === 403), 'the refused audit read is logged');
  for (const e of events) {
    assert.match(e.date_created, RFC2822);
    assert.ok(e.source === '127.0.0.1' || e.source === '::1', `source ${e.source}`);
  }
  const ids = events.map((e) => e.id);
  assert.deepStrictEqual(ids, [...ids].sort((a, b) => b - a), 'newest first');
});

// SIP Domains and Credential Lists. SIP_DOMAIN, SIP_USER and SIP_PASSWORD (optional, set by
// api_twilio.sh) name a domain and user the last check leaves provisioned, for a REGISTER
// through the running edge after this script.
const sipPath = (rest) => `/2010-04-01/Accounts/${AC}/SIP/${rest}`;

check('sip domains: create (201, SD, lower-cased), fetch, list, update, unique names', async () => {
  const name = `Pbx-${uniq}.Example.com`;
  const d = await client.sip.domains.create({
    domainName: name, friendlyName: 'office pbx', voiceUrl: 'https://example.com/sip-voice', voiceMethod: 'get', sipRegistration: true,
  });
  assert.match(d.sid, SID('SD'));
  assert.strictEqual(d.domainName, name.toLowerCase());
  assert.strictEqual(d.friendlyName, 'office pbx');
  assert.strictEqual(d.voiceUrl, 'https://example.com/sip-voice');
  assert.strictEqual(d.voiceMethod, 'GET');
  assert.strictEqual(d.sipRegistration, true);
  assert.strictEqual(d.accountSid, AC);
  assert.strictEqual(d.uri, `/2010-04-01/Accounts/${AC}/SIP/Domains/${d.sid}.json`);
  state.sipDomain = d.sid;
  const r = await raw('GET', sipPath(`Domains/${d.sid}.json`));
  assert.strictEqual(r.status, 200);
  assert.match(r.json.date_created, RFC2822);
  for (const k of ['account_sid', 'api_version', 'auth_type', 'date_created', 'date_updated', 'domain_name', 'friendly_name', 'sid', 'uri',
    'voice_fallback_method', 'voice_fallback_url', 'voice_method', 'voice_status_callback_method', 'voice_status_callback_url', 'voice_url',
    'subresource_uris', 'sip_registration', 'emergency_calling_enabled', 'secure', 'byoc_trunk_sid', 'emergency_caller_sid'])
    assert.ok(k in r.json, `domain has no ${k}`);
  assert.strictEqual(r.json.voice_fallback_url, null);
  const created = await raw('POST', sipPath('Domains.json'), { body: `DomainName=raw-${uniq}.example.com` });
  assert.strictEqual(created.status, 201);
  const all = await client.sip.domains.list({ pageSize: 1 });
  assert.deepStrictEqual(all.map((x) => x.sid).sort(), [d.sid, created.json.sid].sort());
  const u = await client.sip.domains(d.sid).update({ friendlyName: 'renamed pbx', voiceFallbackUrl: 'https://example.com/fb' });
  assert.strictEqual(u.friendlyName, 'renamed pbx');
  assert.strictEqual(u.voiceFallbackUrl, 'https://example.com/fb');
  assert.strictEqual(u.voiceUrl, 'https://example.com/sip-voice', 'an update keeps what it did not name');
  // Unique across accounts, whatever the case; host names only; unknown parameters refused.
  const other = clientFor(env('OTHER_SID'), env('OTHER_TOKEN'));
  const taken = await rejects(other.sip.domains.create({ domainName: name.toUpperCase() }), 400);
  assert.match(taken.message, /is not available/);
  assert.strictEqual(taken.code, 21231);
  await rejects(client.sip.domains.create({ domainName: 'not a host!' }), 400);
  await rejects(client.sip.domains.create({ domainName: '10.1.2.3' }), 400);
  const noName = await raw('POST', sipPath('Domains.json'), { body: 'FriendlyName=no%20name' });
  assert.strictEqual(noName.status, 400);
  assert.match(noName.json.message, /DomainName is required/);
  const unknown = await raw('POST', sipPath('Domains.json'), { body: `DomainName=x-${uniq}.example.com&Colour=blue` });
  assert.strictEqual(unknown.status, 400);
  assert.match(unknown.json.message, /Colour/);
  assert.strictEqual(await client.sip.domains(created.json.sid).remove(), true);
  await rejects(client.sip.domains(created.json.sid).fetch(), 404, 20404);
});

check('sip credential lists and credentials: password rule, the password never comes back', async () => {
  const cl = await client.sip.credentialLists.create({ friendlyName: 'staff' });
  assert.match(cl.sid, SID('CL'));
  assert.strictEqual(cl.friendlyName, 'staff');
  assert.strictEqual(cl.uri, `/2010-04-01/Accounts/${AC}/SIP/CredentialLists/${cl.sid}.json`);
  state.sipList = cl.sid;
  const noName = await raw('POST', sipPath('CredentialLists.json'), { body: '' });
  assert.strictEqual(noName.status, 400);
  assert.match(noName.json.message, /FriendlyName is required/);
  const creds = client.sip.credentialLists(cl.sid).credentials;
  for (const weak of ['Short1a', 'alllowercase1234', 'ALLUPPERCASE1234', 'NoDigitsAtAllHere'])
    await rejects(creds.create({ username: 'weak', password: weak }), 400);
  const cr = await creds.create({ username: 'alice', password: 'Alice1234567' });
  assert.match(cr.sid, SID('CR'));
  assert.strictEqual(cr.username, 'alice');
  assert.strictEqual(cr.credentialListSid, cl.sid);
  const r = await raw('GET', sipPath(`CredentialLists/${cl.sid}/Credentials/${cr.sid}.json`));
  assert.strictEqual(r.status, 200);
  assert.ok(!('password' in r.json), 'the password is never returned');
  assert.ok(!r.text.includes('Alice1234567'));
  assert.strictEqual(r.json.uri, `/2010-04-01/Accounts/${AC}/SIP/CredentialLists/${cl.sid}/Credentials/${cr.sid}.json`);
  const dup = await rejects(creds.create({ username: 'alice', password: 'Alice1234567' }), 400);
  assert.match(dup.message, /alice/);
  const bob = await creds.create({ username: 'bob', password: 'Bob123456789' });
  assert.deepStrictEqual((await creds.list()).map((x) => x.username).sort(), ['alice', 'bob']);
  const upd = await creds(cr.sid).update({ password: 'Alice7654321' });
  assert.strictEqual(upd.sid, cr.sid);
  await rejects(creds(cr.sid).update({ password: 'weak' }), 400);
  assert.strictEqual(await creds(bob.sid).remove(), true);
  await rejects(creds(bob.sid).fetch(), 404, 20404);
  const renamed = await client.sip.credentialLists(cl.sid).update({ friendlyName: 'staff 2' });
  assert.strictEqual(renamed.friendlyName, 'staff 2');
  assert.ok((await client.sip.credentialLists.list()).some((x) => x.sid === cl.sid));
});

check('sip mappings: create, list, fetch, the Auth/Calls and Auth/Registrations aliases, remove', async () => {
  const sd = state.sipDomain, cl = state.sipList;
  const m = await client.sip.domains(sd).credentialListMappings.create({ credentialListSid: cl });
  assert.strictEqual(m.sid, cl);
  assert.strictEqual(m.domainSid, sd);
  assert.strictEqual(m.friendlyName, 'staff 2');
  assert.deepStrictEqual((await client.sip.domains(sd).credentialListMappings.list()).map((x) => x.sid), [cl]);
  assert.strictEqual((await client.sip.domains(sd).credentialListMappings(cl).fetch()).sid, cl);
  const calls = await client.sip.domains(sd).auth.calls.credentialListMappings.list();
  assert.deepStrictEqual(calls.map((x) => x.sid), [cl]);
  const regs = await client.sip.domains(sd).auth.registrations.credentialListMappings(cl).fetch();
  assert.strictEqual(regs.sid, cl);
  await rejects(client.sip.domains(sd).credentialListMappings.create({ credentialListSid: cl }), 400);
  const d = await raw('GET', sipPath(`Domains/${sd}.json`));
  assert.strictEqual(d.json.auth_type, 'CREDENTIAL_LIST');
  assert.strictEqual(await client.sip.domains(sd).auth.calls.credentialListMappings(cl).remove(), true);
  await rejects(client.sip.domains(sd).credentialListMappings(cl).fetch(), 404, 20404);
  const again = await client.sip.domains(sd).auth.registrations.credentialListMappings.create({ credentialListSid: cl });
  assert.strictEqual(again.sid, cl);
});

check("sip: another account's SD, CL and CR are 404; read-only may read, not write", async () => {
  const other = clientFor(env('OTHER_SID'), env('OTHER_TOKEN'));
  const sd = state.sipDomain, cl = state.sipList;
  await rejects(other.sip.domains(sd).fetch(), 404, 20404);
  await rejects(other.sip.domains(sd).update({ friendlyName: 'mine' }), 404, 20404);
  await rejects(other.sip.domains(sd).remove(), 404, 20404);
  await rejects(other.sip.credentialLists(cl).fetch(), 404, 20404);
  await rejects(other.sip.credentialLists(cl).credentials.list(), 404, 20404);
  await rejects(other.sip.credentialLists(cl).credentials.create({ username: 'eve', password: 'Eve123456789' }), 404, 20404);
  const theirList = await other.sip.credentialLists.create({ friendlyName: 'theirs' });
  await rejects(client.sip.credentialLists(theirList.sid).fetch(), 404, 20404);
  await rejects(client.sip.domains(sd).credentialListMappings.create({ credentialListSid: theirList.sid }), 404);
  await rejects(client.api.v2010.accounts(env('OTHER_SID')).sip.domains.list(), 404, 20404);
  assert.strictEqual((await other.sip.domains.list()).length, 0);
  const ro = clientFor(env('RO_KEY_SID'), env('RO_KEY_SECRET'), { accountSid: AC });
  assert.ok((await ro.sip.domains.list()).some((x) => x.sid === sd));
  await rejects(ro.sip.credentialLists.create({ friendlyName: 'nope' }), 403, 20403);
  await rejects(ro.sip.domains(sd).remove(), 403, 20403);
  assert.strictEqual(await other.sip.credentialLists(theirList.sid).remove(), true);
});

check('sip: delete a list and a domain; provision the user the edge check registers', async () => {
  const tmp = await client.sip.credentialLists.create({ friendlyName: 'temporary' });
  assert.strictEqual(await client.sip.credentialLists(tmp.sid).remove(), true);
  await rejects(client.sip.credentialLists(tmp.sid).fetch(), 404, 20404);
  assert.strictEqual(await client.sip.domains(state.sipDomain).remove(), true);
  await rejects(client.sip.domains(state.sipDomain).credentialListMappings.list(), 404, 20404);
  if (!process.env.SIP_DOMAIN) return;
  const d = await client.sip.domains.create({ domainName: process.env.SIP_DOMAIN, sipRegistration: true });
  const cl = await client.sip.credentialLists.create({ friendlyName: 'edge' });
  await client.sip.credentialLists(cl.sid).credentials.create({ username: process.env.SIP_USER, password: process.env.SIP_PASSWORD });
  await client.sip.domains(d.sid).credentialListMappings.create({ credentialListSid: cl.sid });
});

// Last: it retires the other account's token. Twilio's hosts are rewritten like the rest, so
// the library's accounts.twilio.com/v1/AuthTokens/... reach the same server.
check('auth tokens: a secondary token beside the primary, then promotion retires the old one', async () => {
  const sid = env('OTHER_SID');
  const primary = clientFor(sid, env('OTHER_TOKEN'));
  const sec = await primary.accounts.v1.secondaryAuthToken().create();
  assert.strictEqual(sec.accountSid, sid);
  assert.match(sec.secondaryAuthToken, /^[0-9a-f]{32}$/);
  assert.notStrictEqual(sec.secondaryAuthToken, env('OTHER_TOKEN'));
  const secondary = clientFor(sid, sec.secondaryAuthToken);
  assert.strictEqual((await secondary.api.v2010.accounts(sid).fetch()).sid, sid);
  assert.strictEqual((await primary.api.v2010.accounts(sid).fetch()).sid, sid);
  // A developer's key may not rotate the first account's token.
  const dev = clientFor(env('DEV_KEY_SID'), env('DEV_KEY_SECRET'), { accountSid: AC });
  await rejects(dev.accounts.v1.secondaryAuthToken().create(), 403);
  const promoted = await secondary.accounts.v1.authTokenPromotion().update();
  assert.strictEqual(promoted.accountSid, sid);
  assert.strictEqual(promoted.authToken, sec.secondaryAuthToken);
  await rejects(primary.api.v2010.accounts(sid).fetch(), 401, 20003);
  assert.strictEqual((await secondary.api.v2010.accounts(sid).fetch()).sid, sid);
});

(async () => {
  let passed = 0, failed = 0;
  for (const c of checks) {
    try {
      await c.fn();
      passed++;
      console.log(`ok   ${c.name}`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${c.name}\n     ${(e && e.stack) || e}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})();
