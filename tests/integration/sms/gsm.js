// The text codings the SMSC simulator and its self-check need, written here so the recorded
// text is exactly what went over the wire: GSM 03.38 7-bit in SMPP's unpacked form (one septet
// per octet, data_coding 0), UCS-2 (UTF-16BE, data_coding 8), the concatenation UDH, and the
// splitting of a long text into parts the way an SMSC would for an MO message.
'use strict';

// The default alphabet, indexed by septet. 0x1B is the escape to the extension table.
const BASIC = [
  '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
  'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\x1b', 'Æ', 'æ', 'ß', 'É',
  ' ', '!', '"', '#', '¤', '%', '&', "'", '(', ')', '*', '+', ',', '-', '.', '/',
  '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
  '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
  'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
  '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
  'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
];
// The extension table: septet after 0x1B -> character.
const EXTENSION = { 0x0a: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2f: '\\', 0x3c: '[', 0x3d: '~', 0x3e: ']', 0x40: '|', 0x65: '€' };

const toSeptet = new Map();
BASIC.forEach((c, i) => { if (i !== 0x1b) toSeptet.set(c, [i]); });
for (const [k, c] of Object.entries(EXTENSION)) toSeptet.set(c, [0x1b, Number(k)]);

const REPLACEMENT = '\ufffd';

// Septets (one per octet) to a string; an octet above 0x7F or an unknown escape gives U+FFFD.
function decodeGsm(buf) {
  let out = '';
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (b > 0x7f) { out += REPLACEMENT; continue; }
    if (b === 0x1b) {
      const next = buf[i + 1];
      if (next !== undefined && EXTENSION[next] !== undefined) { out += EXTENSION[next]; i++; } else out += REPLACEMENT;
      continue;
    }
    out += BASIC[b];
  }
  return out;
}

// A string to unpacked septets, or null when a character is not in the GSM alphabet.
function encodeGsm(text) {
  const out = [];
  for (const c of text) {
    const s = toSeptet.get(c);
    if (!s) return null;
    out.push(...s);
  }
  return Buffer.from(out);
}

// UTF-16BE code units to a string, unit by unit, so a surrogate pair cut across two parts
// joins again when the parts' texts are concatenated.
function decodeUcs2(buf) {
  let out = '';
  for (let i = 0; i + 1 < buf.length; i += 2) out += String.fromCharCode(buf.readUInt16BE(i));
  if (buf.length % 2) out += REPLACEMENT;
  return out;
}

function encodeUcs2(text) {
  const buf = Buffer.alloc(text.length * 2);
  for (let i = 0; i < text.length; i++) buf.writeUInt16BE(text.charCodeAt(i), i * 2);
  return buf;
}

// short_message with the UDHI bit set: {udh: {ref, total, seq} | null, ies, body}. The
// concatenation IE is 0x00 (8-bit reference) or 0x08 (16-bit reference); other IEs are listed.
function splitUdh(buf) {
  if (buf.length < 1 || buf[0] + 1 > buf.length) return { udh: null, ies: [], body: buf, bad: true };
  const end = 1 + buf[0];
  const ies = [];
  let udh = null;
  for (let p = 1; p + 2 <= end;) {
    const iei = buf[p], len = buf[p + 1];
    const data = buf.subarray(p + 2, Math.min(end, p + 2 + len));
    ies.push({ iei, data: data.toString('hex') });
    if (iei === 0x00 && len === 3) udh = { ref: data[0], total: data[1], seq: data[2] };
    if (iei === 0x08 && len === 4) udh = { ref: data.readUInt16BE(0), total: data[2], seq: data[3] };
    p += 2 + len;
  }
  return { udh, ies, body: buf.subarray(end) };
}

// A short_message's text by data_coding: 0 GSM 7-bit unpacked, 1 IA5 (ASCII), 3 Latin-1,
// 8 UCS-2; anything else as Latin-1.
function decodeText(dataCoding, body) {
  if (dataCoding === 0) return decodeGsm(body);
  if (dataCoding === 8) return decodeUcs2(body);
  if (dataCoding === 1) return body.toString('ascii');
  return body.toString('latin1');
}

// The parts an SMSC would deliver for `text`: [{data_coding, esm_class, short_message}].
// GSM when it can (160 septets alone, 153 per part), else UCS-2 (70 alone, 67 per part);
// an escape pair or a surrogate pair is never cut. `ref` is the concatenation reference.
function encodeParts(text, { ucs2 = false, ref = 1 } = {}) {
  const gsm = ucs2 ? null : encodeGsm(text);
  let units, single, per, dataCoding;
  if (gsm) {
    units = []; // one entry per character: its septets
    for (const c of text) units.push(toSeptet.get(c));
    single = 160; per = 153; dataCoding = 0;
  } else {
    units = [];
    for (const c of text) units.push(c.length === 2 ? [c.charCodeAt(0), c.charCodeAt(1)] : [c.charCodeAt(0)]);
    single = 70; per = 67; dataCoding = 8;
  }
  const total = units.reduce((n, u) => n + u.length, 0);
  const pack = (chunk) => dataCoding === 0 ? Buffer.from(chunk.flat())
    : encodeUcs2(String.fromCharCode(...chunk.flat()));
  if (total <= single) return [{ data_coding: dataCoding, esm_class: 0, short_message: pack(units) }];
  const chunks = [];
  let cur = [], n = 0;
  for (const u of units) {
    if (n + u.length > per) { chunks.push(cur); cur = []; n = 0; }
    cur.push(u); n += u.length;
  }
  if (cur.length) chunks.push(cur);
  return chunks.map((c, i) => ({
    data_coding: dataCoding,
    esm_class: 0x40,
    short_message: Buffer.concat([Buffer.from([5, 0x00, 3, ref & 0xff, chunks.length, i + 1]), pack(c)]),
  }));
}

module.exports = { decodeGsm, encodeGsm, decodeUcs2, encodeUcs2, splitUdh, decodeText, encodeParts };
