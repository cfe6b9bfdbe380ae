// The operator page of caddy-s3cors, served by the admin API at /s3_cors/.
// Plain JavaScript, no framework. Every value from the server (bucket
// names, origins, header values, rule IDs, error messages) is
// attacker-influenced: it reaches the DOM only as text (textContent, text
// nodes, input values), never as HTML.
'use strict';

const API = '/s3_cors';
const PAGE_SIZE = 200; // rows rendered at once, so that 10,000 buckets stay fast
const $ = (id) => document.getElementById(id);

// The secret of `caddy s3-cors page`. The URL it prints carries it in the
// fragment (#token=...), which the browser sends to no server and puts in
// no Referer; the page keeps it in this tab's session storage, which other
// ports of the address cannot read (a cookie would reach every one of
// them), and sends it in a header that no other site can make the browser
// send. Served by the admin API directly, there is none.
const TOKEN_HEADER = 'S3cors-Page-Token';
const TOKEN_KEY = 's3cors-page-token';
const token = takeToken();

function takeToken() {
  const m = /^#token=([\w-]+)$/.exec(location.hash);
  let t = m ? m[1] : '';
  try {
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    else t = sessionStorage.getItem(TOKEN_KEY) || '';
  } catch (e) { /* no storage: the token lives as long as the page */ }
  if (m) history.replaceState(null, '', location.pathname + location.search);
  return t;
}

// el builds an element; string children become text nodes.
function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) {
    if (c == null) continue;
    e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return e;
}

function setStatus(msg) { $('status').textContent = msg || ''; }

// errText describes a failed call.
function errText(r) { return r.error ? r.error.code + ': ' + r.error.message : 'HTTP ' + r.status; }

// call makes an admin API request and returns {status, text, json, error}:
// error is S3's error document ({code, message}) when the answer is one.
async function call(method, path, {body, type, accept} = {}) {
  const headers = {};
  if (type) headers['Content-Type'] = type;
  if (accept) headers.Accept = accept;
  if (token) headers[TOKEN_HEADER] = token;
  let res;
  try {
    res = await fetch(API + path, {method, headers, body, cache: 'no-store', credentials: 'same-origin'});
  } catch (e) {
    return {status: 0, error: {code: 'NetworkError', message: String(e)}};
  }
  const text = await res.text();
  const out = {status: res.status, text};
  if ((res.headers.get('Content-Type') || '').startsWith('application/json')) {
    try { out.json = JSON.parse(text); } catch (e) { /* left undefined */ }
  }
  if (!res.ok) out.error = s3Error(text, res.status);
  return out;
}

// s3Error reads an S3 XML error document (or Caddy's JSON error).
function s3Error(text, status) {
  const doc = new DOMParser().parseFromString(text, 'application/xml');
  const code = doc.querySelector('Error > Code');
  if (code) {
    const fields = {};
    for (const c of doc.documentElement.children) {
      if (!['Code', 'Message', 'RequestId', 'HostId'].includes(c.tagName)) fields[c.tagName] = c.textContent;
    }
    const msg = doc.querySelector('Error > Message');
    return {status, code: code.textContent, message: msg ? msg.textContent : '', fields};
  }
  try { return {status, code: 'HTTP ' + status, message: JSON.parse(text).error}; } catch (e) { /* not JSON */ }
  return {status, code: 'HTTP ' + status, message: text.slice(0, 300)};
}

// ---- state ----
const state = {
  buckets: [],    // [{bucket, source, rules, overrides}]
  defaults: [],   // [{source, handler, configuration, xml}]
  handlers: 0,
  matches: [],    // the filtered list
  shown: 0,       // how many of matches are rendered
  selected: null, // {kind: 'bucket', name} or {kind: 'default', handler}
  current: null,  // the configuration shown: {json, xml, source}
  docTab: 'json',
  editFormat: 'json',
  editBucket: null, // the bucket being edited, '' for a new one
  lastCheck: null,  // {text, format, valid}
};

// ---- bucket list ----
async function loadList() {
  const r = await call('GET', '/sources');
  if (r.status !== 200 || !r.json) {
    setStatus('Cannot list buckets: ' + errText(r));
    return;
  }
  state.buckets = r.json.buckets;
  state.defaults = r.json.defaults;
  state.handlers = r.json.handlers;
  filter();
}

function filter() {
  const q = $('search').value.trim().toLowerCase();
  state.matches = q ? state.buckets.filter((b) => b.bucket.toLowerCase().includes(q)) : state.buckets;
  state.shown = 0;
  $('buckets').replaceChildren();
  if (!q) {
    for (const d of state.defaults) $('buckets').append(defaultRow(d));
  }
  renderMore();
}

function renderMore() {
  const frag = document.createDocumentFragment();
  const end = Math.min(state.matches.length, state.shown + PAGE_SIZE);
  for (let i = state.shown; i < end; i++) frag.append(bucketRow(state.matches[i]));
  state.shown = end;
  $('buckets').append(frag);
  const total = state.buckets.length;
  const q = $('search').value.trim();
  let text = total.toLocaleString() + (total === 1 ? ' bucket' : ' buckets') + ' with their own configuration';
  if (q) text = state.matches.length.toLocaleString() + ' of ' + total.toLocaleString() + ' buckets match';
  if (state.shown < state.matches.length) text += ' · showing ' + state.shown.toLocaleString();
  $('count').textContent = text;
  $('more').hidden = state.shown >= state.matches.length;
  markSelected();
}

function bucketRow(b) {
  const btn = el('button', {type: 'button', 'data-bucket': b.bucket, title: b.bucket},
    el('span', {class: 'bname', text: b.bucket}),
    el('span', {class: 'n', text: b.rules + (b.rules === 1 ? ' rule' : ' rules')}),
    badge(b.source));
  return el('li', {}, btn);
}

function defaultRow(d) {
  const label = 'default' + (state.handlers > 1 ? ' (handler ' + d.handler + ')' : '');
  const btn = el('button', {type: 'button', 'data-default': String(d.handler), title: 'Buckets without their own configuration'},
    el('span', {class: 'bname', text: label}),
    el('span', {class: 'n', text: 'all other buckets'}),
    badge('default'));
  return el('li', {class: 'default'}, btn);
}

function badge(source) {
  const labels = {runtime: 'set at run time', bucket_config: 'bucket_config', default: 'default', none: 'none', unreadable: 'unreadable'};
  return el('span', {class: 'badge ' + (labels[source] ? source : 'none'), text: labels[source] || source});
}

function markSelected() {
  for (const b of $('buckets').querySelectorAll('button')) {
    const s = state.selected;
    const on = s && (s.kind === 'bucket' ? b.dataset.bucket === s.name : b.dataset.default === String(s.handler));
    b.setAttribute('aria-current', on ? 'true' : 'false');
  }
}

// ---- one bucket ----
async function selectBucket(name) {
  state.selected = {kind: 'bucket', name};
  markSelected();
  setHash('b/' + name);
  $('t-bucket').value = name;
  const r = await call('GET', '/sources/' + encodeURIComponent(name));
  if (r.status !== 200 || !r.json) {
    setStatus('Cannot read ' + name + ': ' + errText(r));
    return;
  }
  const configs = r.json.configurations;
  const active = configs.find((c) => c.active) || null;
  const notes = [];
  if (r.json.source === 'runtime' && configs.some((c) => c.source === 'bucket_config')) {
    notes.push('This run-time configuration overrides the bucket_config in the Caddy config; deleting it brings that one back.');
  } else if (r.json.source === 'bucket_config') {
    notes.push('From the Caddy config (bucket_config). Saving an edit sets a run-time configuration, which takes precedence over it.');
  } else if (r.json.source === 'default') {
    notes.push('This bucket has no configuration of its own: the handler\'s default applies.');
  } else if (r.json.source === 'none') {
    notes.push('This bucket has no CORS configuration: S3 refuses every preflight with 403.');
  } else if (r.json.source === 'unreadable') {
    notes.push('Storage holds a configuration for this bucket that this node cannot read (see the server log): every CORS request of the bucket is refused, and no bucket_config or default applies, until it is saved again or deleted.');
  }
  showConfig(name, r.json.source, active, notes.join(' '), configs.filter((c) => c !== active));
}

function selectDefault(handler) {
  const d = state.defaults.find((x) => x.handler === handler);
  if (!d) return;
  state.selected = {kind: 'default', handler};
  markSelected();
  setHash('d/' + handler);
  showConfig('default' + (state.handlers > 1 ? ' (handler ' + handler + ')' : ''), 'default', d,
    'Applies to every bucket without a configuration of its own (set in the Caddy config: default or default_file).', []);
}

function showConfig(title, source, cfg, note, others) {
  $('empty').hidden = true;
  $('bucket').hidden = false;
  $('confirm').hidden = true;
  $('name').textContent = title;
  $('source').replaceWith(Object.assign(badge(source), {id: 'source'}));
  $('note').textContent = note;
  const isBucket = state.selected.kind === 'bucket';
  $('edit').hidden = !isBucket;
  $('delete').hidden = !(isBucket && (source === 'runtime' || source === 'unreadable'));
  state.current = cfg ? {json: cfg.configuration, xml: cfg.xml, source} : null;
  renderRules(cfg ? cfg.configuration : null);
  renderDoc();
  const box = $('others');
  box.replaceChildren();
  for (const o of others) {
    const label = (o.source === 'default' ? 'Default' : 'bucket_config') + (o.handler != null && state.handlers > 1 ? ' of handler ' + o.handler : '') + ' (not in effect)';
    box.append(el('details', {class: 'other'}, el('summary', {text: label}), el('pre', {class: 'doc', text: pretty(o.configuration)})));
  }
}

function renderRules(cfg) {
  const tbody = $('rules').tBodies[0];
  tbody.replaceChildren();
  const rules = cfg ? cfg.CORSRules || [] : [];
  if (rules.length === 0) {
    tbody.append(el('tr', {}, el('td', {colSpan: 7, class: 'none', text: 'No rules.'})));
    return;
  }
  rules.forEach((r, i) => {
    const id = cell(r.ID == null ? [] : [r.ID]);
    id.classList.add('id');
    tbody.append(labelled(el('tr', {},
      el('td', {text: String(i)}), id,
      cell(r.AllowedOrigins), cell(r.AllowedMethods), cell(r.AllowedHeaders), cell(r.ExposeHeaders),
      el('td', {class: r.MaxAgeSeconds == null ? 'none' : '', text: r.MaxAgeSeconds == null ? '—' : r.MaxAgeSeconds + ' s'})),
    ['Rule', 'ID', 'Allowed origins', 'Methods', 'Allowed headers', 'Exposed headers', 'Max age']));
  });
}

// labelled names each cell of a row, for the one-column layout of narrow
// screens (CSS shows the label before the value).
function labelled(tr, labels) {
  [...tr.cells].forEach((td, i) => td.setAttribute('data-label', labels[i]));
  return tr;
}

function cell(values) {
  if (!values || values.length === 0) return el('td', {class: 'none', text: '—'});
  return el('td', {}, el('div', {class: 'vals'}, ...values.map((v) => el('code', {text: v}))));
}

// pretty indents a configuration, with each list of values on one line so
// that a rule reads at a glance.
function pretty(json, depth = 0) {
  const pad = '  '.repeat(depth + 1);
  if (Array.isArray(json)) {
    if (json.every((v) => typeof v !== 'object' || v === null)) return '[' + json.map((v) => JSON.stringify(v)).join(', ') + ']';
    return '[\n' + json.map((v) => pad + pretty(v, depth + 1)).join(',\n') + '\n' + '  '.repeat(depth) + ']';
  }
  if (json && typeof json === 'object') {
    const keys = Object.keys(json);
    return '{\n' + keys.map((k) => pad + JSON.stringify(k) + ': ' + pretty(json[k], depth + 1)).join(',\n') + '\n' + '  '.repeat(depth) + '}';
  }
  return JSON.stringify(json);
}

function renderDoc() {
  const c = state.current;
  $('tab-json').setAttribute('aria-selected', String(state.docTab === 'json'));
  $('tab-xml').setAttribute('aria-selected', String(state.docTab === 'xml'));
  $('doc').textContent = !c ? '(no configuration)' : state.docTab === 'json' ? pretty(c.json) : prettyXML(c.xml);
}

// prettyXML indents the GetBucketCors document, one element a line.
function prettyXML(xml) {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  if (doc.querySelector('parsererror')) return xml;
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const walk = (node, depth) => {
    const pad = '  '.repeat(depth);
    const kids = [...node.children];
    const attrs = node === doc.documentElement && node.namespaceURI ? ' xmlns="' + node.namespaceURI + '"' : '';
    if (kids.length === 0) {
      lines.push(pad + '<' + node.tagName + attrs + '>' + esc(node.textContent) + '</' + node.tagName + '>');
      return;
    }
    lines.push(pad + '<' + node.tagName + attrs + '>');
    for (const k of kids) walk(k, depth + 1);
    lines.push(pad + '</' + node.tagName + '>');
  };
  walk(doc.documentElement, 0);
  return lines.join('\n');
}

// ---- delete ----
function askDelete() {
  $('confirm-text').textContent = 'Delete the CORS configuration of ' + state.selected.name + '? Browsers lose access at once.';
  $('confirm').hidden = false;
  $('confirm-no').focus();
}

async function doDelete() {
  const name = state.selected.name;
  $('confirm').hidden = true;
  const r = await call('DELETE', '/buckets/' + encodeURIComponent(name));
  if (r.status !== 204) {
    setStatus('Delete failed: ' + errText(r));
    return;
  }
  setStatus('Deleted the configuration of ' + name);
  await loadList();
  await selectBucket(name);
}

// ---- edit ----
function openEditor(bucket) {
  state.editBucket = bucket;
  $('editor').hidden = false;
  $('edit-title').textContent = bucket || 'a new bucket';
  $('edit-bucket-row').hidden = bucket !== '';
  $('edit-bucket').value = '';
  const c = state.current;
  state.editFormat = state.docTab;
  let text;
  if (bucket && c) text = state.editFormat === 'json' ? pretty(c.json) : prettyXML(c.xml);
  else text = pretty({CORSRules: [{AllowedOrigins: ['https://app.example.com'], AllowedMethods: ['GET', 'HEAD'], AllowedHeaders: ['*'], MaxAgeSeconds: 3000}]});
  if (!bucket) state.editFormat = 'json';
  $('text').value = text;
  $('t-inline-row').hidden = false;
  renderFormat();
  check();
  $('editor').scrollIntoView({block: 'nearest'});
  (bucket ? $('text') : $('edit-bucket')).focus();
}

function closeEditor() {
  $('editor').hidden = true;
  $('t-inline-row').hidden = true;
  $('t-inline').checked = false;
  state.editBucket = null;
  state.lastCheck = null;
}

function renderFormat() {
  $('fmt-json').setAttribute('aria-selected', String(state.editFormat === 'json'));
  $('fmt-xml').setAttribute('aria-selected', String(state.editFormat === 'xml'));
}

// switchFormat converts the text when it is valid, so that no edit is lost.
function switchFormat(format) {
  if (format === state.editFormat) return;
  const last = state.lastCheck;
  if (last && last.valid && last.text === $('text').value) {
    $('text').value = format === 'json' ? pretty(last.configuration) : prettyXML(last.xml);
  }
  state.editFormat = format;
  renderFormat();
  check();
}

let checkTimer = 0;
let checkSeq = 0;
function scheduleCheck() {
  $('save').disabled = true;
  clearTimeout(checkTimer);
  checkTimer = setTimeout(check, 250);
}

// check asks the server whether a PUT of the text would be stored, and
// shows S3's verdict beside the text; it stores nothing.
async function check() {
  const seq = ++checkSeq;
  const text = $('text').value;
  const format = state.editFormat;
  $('save').disabled = true;
  const r = await call('POST', '/validate', {body: text, type: format === 'json' ? 'application/json' : 'application/xml'});
  if (seq !== checkSeq) return; // a newer check is on its way
  const box = $('check');
  box.replaceChildren();
  if (r.status !== 200 || !r.json) {
    box.className = 'check bad';
    box.append(el('div', {class: 'code', text: r.error ? r.error.code : 'HTTP ' + r.status}), el('div', {text: r.error ? r.error.message : ''}));
    state.lastCheck = null;
    return;
  }
  const v = r.json;
  state.lastCheck = {text, format, valid: v.valid, configuration: v.configuration, xml: v.xml};
  if (v.valid) {
    box.className = 'check ok';
    box.append(el('strong', {text: '✓ Valid'}), ' — ' + v.rules + (v.rules === 1 ? ' rule. ' : ' rules. ') + 'S3 would accept this document.');
    $('save').disabled = false;
    return;
  }
  const e = v.error;
  box.className = 'check bad';
  const dl = el('dl', {}, el('dt', {text: 'Status'}), el('dd', {text: String(e.status)}));
  if (e.value != null && e.value !== '') {
    dl.append(el('dt', {text: 'Value'}), el('dd', {}, el('code', {text: e.value})));
    const line = lineOf(text, e.value);
    if (line) dl.append(el('dt', {text: 'Line'}), el('dd', {text: String(line)}));
  }
  for (const [k, val] of Object.entries(e.fields || {})) dl.append(el('dt', {text: k}), el('dd', {text: val}));
  box.append(el('div', {}, 'S3 would refuse this document: ', el('span', {class: 'code', text: e.code})),
    el('div', {class: 'message', text: e.message}), dl,
    el('div', {class: 'small muted', text: 'Nothing was saved.'}));
}

// lineOf is the 1-based line of the first occurrence of value in text.
function lineOf(text, value) {
  let i = text.indexOf(value);
  if (i < 0) i = text.indexOf(JSON.stringify(value).slice(1, -1));
  return i < 0 ? 0 : text.slice(0, i).split('\n').length;
}

async function save() {
  const bucket = state.editBucket || $('edit-bucket').value.trim();
  if (!bucket) {
    setStatus('Name the bucket first.');
    $('edit-bucket').focus();
    return;
  }
  const text = $('text').value;
  $('save').disabled = true;
  const r = await call('PUT', '/buckets/' + encodeURIComponent(bucket),
    {body: text, type: state.editFormat === 'json' ? 'application/json' : 'application/xml'});
  if (r.status !== 200) {
    const box = $('check');
    box.className = 'check bad';
    const e = r.error || {code: 'HTTP ' + r.status, message: ''};
    box.replaceChildren(el('div', {}, 'Not saved: ', el('span', {class: 'code', text: e.code})), el('div', {text: e.message}));
    return;
  }
  setStatus('Saved the configuration of ' + bucket);
  closeEditor();
  await loadList();
  await selectBucket(bucket);
}

// ---- test a request ----
function kind() { return document.querySelector('input[name="kind"]:checked').value; }

async function runTest(ev) {
  ev.preventDefault();
  const preflight = kind() === 'preflight';
  const req = {bucket: $('t-bucket').value.trim(), path: $('t-path').value.trim(), origin: $('t-origin').value};
  req.method = preflight ? 'OPTIONS' : $('t-method').value;
  if (preflight) {
    req.headers = {'Access-Control-Request-Method': $('t-method').value};
    if ($('t-headers').value.trim() !== '') req.headers['Access-Control-Request-Headers'] = $('t-headers').value;
  }
  if ($('t-inline').checked && !$('editor').hidden) req.configuration = $('text').value;
  const r = await call('POST', '/explain', {body: JSON.stringify(req), type: 'application/json', accept: 'application/json'});
  const box = $('verdict');
  box.replaceChildren();
  if (r.status !== 200 || !r.json) {
    box.append(el('div', {class: 'verdict refused'}, el('div', {class: 'big', text: r.error ? r.error.code : 'HTTP ' + r.status}),
      el('p', {class: 'reason', text: r.error ? r.error.message : ''})));
    return;
  }
  renderVerdict(box, r.json, preflight);
  $('verdict-box').scrollIntoView({block: 'start', behavior: 'instant'});
}

function renderVerdict(box, e, preflight) {
  const words = {allowed: 'ALLOWED', denied: 'REFUSED', not_configured: 'REFUSED · not configured', no_origin: 'NOT A CORS REQUEST', bad_request: 'REFUSED · bad preflight'};
  let cls = e.result === 'allowed' ? 'allowed' : 'refused';
  if (e.result === 'no_origin' || (!preflight && e.result === 'not_configured')) cls = 'neutral';
  const src = {runtime: 'the run-time configuration', bucket_config: 'the bucket_config', default: 'the default configuration', none: 'no configuration', unreadable: 'an unreadable stored configuration (no rule)', inline: 'the text being edited'}[e.source] || e.source;
  const v = el('div', {class: 'verdict ' + cls, id: 'verdict-box', 'data-result': e.result},
    el('div', {class: 'big', text: words[e.result] || e.result.toUpperCase()}),
    el('p', {class: 'reason', text: cap(e.reason) + '.'}),
    el('p', {class: 'small muted', text: 'Decided by ' + src + (e.rule >= 0 ? ', rule ' + e.rule + (e.rule_id ? ' (' + e.rule_id + ')' : '') : '') + '.'}));
  box.append(v);

  const resp = el('div', {class: 'resp'});
  resp.append(el('h3', {text: preflight ? 'S3 answers the preflight with' : 'S3 adds to the store\'s response'}));
  if (preflight) resp.append(el('div', {class: 'statusline mono', text: 'HTTP ' + e.status + (e.status === 200 ? ' OK' : e.status === 403 ? ' Forbidden' : e.status === 400 ? ' Bad Request' : '')}));
  const names = Object.keys(e.headers || {}).sort();
  if (names.length) {
    const t = el('table', {class: 'hdrs mono'});
    for (const n of names) for (const val of e.headers[n]) t.append(el('tr', {}, el('td', {text: n}), el('td', {text: val})));
    resp.append(el('div', {class: 'tablewrap'}, t));
  } else {
    resp.append(el('p', {class: 'muted', text: 'No CORS headers: the browser does not let the page read the response.'}));
  }
  if (e.error) {
    const lines = ['<Error>', '  <Code>' + e.error.code + '</Code>', '  <Message>' + e.error.message + '</Message>'];
    for (const [k, val] of Object.entries(e.error.fields || {})) lines.push('  <' + k + '>' + val + '</' + k + '>');
    lines.push('</Error>');
    resp.append(el('pre', {class: 'doc', text: lines.join('\n')}));
  }
  box.append(resp);

  if (e.rules && e.rules.length) {
    box.append(el('h3', {text: 'Rule by rule'}));
    const t = el('table', {class: 'rulecheck stack'},
      el('thead', {}, el('tr', {}, ...['#', 'ID', 'Origin', 'Method', 'Headers', 'Why not'].map((h) => el('th', {text: h})))));
    const tb = el('tbody');
    for (const rep of e.rules) {
      const tr = labelled(el('tr', {class: rep.index === e.rule ? 'winner' : ''},
        el('td', {text: String(rep.index)}), el('td', {text: rep.id || '—'}),
        mark(rep.origin), mark(rep.method), mark(rep.headers),
        el('td', {class: 'wide'}, rep.failures && rep.failures.length
          ? el('ul', {class: 'fails'}, ...rep.failures.map((f) => el('li', {text: f})))
          : (rep.index === e.rule ? 'matches: this rule decides' : 'would match, but an earlier rule won'))),
      ['Rule', 'ID', 'Origin', 'Method', 'Headers', 'Why not']);
      tb.append(tr);
    }
    t.append(tb);
    box.append(el('div', {class: 'tablewrap'}, t));
  }
}

function mark(ok) { return el('td', {class: 'mark ' + (ok ? 'yes' : 'no'), text: ok ? '✓' : '✗'}); }
function cap(s) { return s ? s[0].toUpperCase() + s.slice(1) : ''; }

// ---- navigation ----
function setHash(h) { history.replaceState(null, '', '#' + encodeURIComponent(h)); }

function fromHash() {
  const h = decodeURIComponent(location.hash.slice(1));
  if (h.startsWith('b/')) selectBucket(h.slice(2));
  else if (h.startsWith('d/')) selectDefault(Number(h.slice(2)));
}

function kindChanged() { $('t-headers-row').hidden = kind() !== 'preflight'; }

let searchTimer = 0;
document.addEventListener('DOMContentLoaded', async () => {
  $('search').addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(filter, 120); });
  $('more').addEventListener('click', renderMore);
  $('buckets').addEventListener('click', (ev) => {
    const b = ev.target.closest('button');
    if (!b) return;
    closeEditor();
    if (b.dataset.default != null) selectDefault(Number(b.dataset.default));
    else selectBucket(b.dataset.bucket);
  });
  $('tab-json').addEventListener('click', () => { state.docTab = 'json'; renderDoc(); });
  $('tab-xml').addEventListener('click', () => { state.docTab = 'xml'; renderDoc(); });
  $('edit').addEventListener('click', () => openEditor(state.selected.name));
  $('new').addEventListener('click', () => openEditor(''));
  $('delete').addEventListener('click', askDelete);
  $('confirm-yes').addEventListener('click', doDelete);
  $('confirm-no').addEventListener('click', () => { $('confirm').hidden = true; });
  $('fmt-json').addEventListener('click', () => switchFormat('json'));
  $('fmt-xml').addEventListener('click', () => switchFormat('xml'));
  $('text').addEventListener('input', scheduleCheck);
  $('save').addEventListener('click', save);
  $('cancel').addEventListener('click', closeEditor);
  $('test-form').addEventListener('submit', runTest);
  for (const r of document.querySelectorAll('input[name="kind"]')) r.addEventListener('change', kindChanged);
  await loadList();
  fromHash();
});
