// Compliance console: the access log (filters, keyset pages, exports), integrity, alerts, disputes.
// Uses the public API only, with the officer's token (memory only, from /assets/app.js).
// The national id an officer types goes to the API and nowhere else: never into this page's URL,
// never shown back (rows name a person by their borrower key).

import { app, boot, showError, h, on } from '/assets/page.js';

const HARD = ['LOAN_ORIGINATION', 'CARD_APPLICATION', 'GUARANTOR_CHECK'];
const SOFT = ['ACCOUNT_REVIEW'];
const PURPOSES = [...HARD, ...SOFT];
const ACTIONS = ['INQUIRY', 'CONSENT_REVOKED', 'FREEZE', 'FREEZE_LIFTED', 'FRAUD_ALERT_SET', 'FRAUD_ALERT_ENDED',
  'DISPUTE_OPENED', 'DISPUTE_RESOLVED', 'DISPUTE_OVERDUE', 'SELF_REPORT', 'SELF_INQUIRIES', 'COMPLIANCE_READ',
  'COMPLIANCE_EXPORT', 'COMPLIANCE_EXPORT_END', 'COMPLIANCE_VERIFY', 'COMPLIANCE_ALERTS', 'COMPLIANCE_DISPUTES'];
const PAGE = 50;

const PROBLEMS = {
  hash_mismatch: 'the row was changed after it was written (its hash no longer matches its contents)',
  broken_link: 'the row does not link to the one before it (a row was changed, removed or inserted)',
  seq_gap: 'a row is missing before this one (its place in the chain skips a number)',
  duplicate_seq: 'two rows claim the same place in the chain (a row was inserted)',
  checkpoint_mismatch: 'a signed checkpoint no longer matches the row it covered',
  tail_missing: 'rows a signed checkpoint covered were cut off the end of the chain',
  checkpoint_signature: 'a signed checkpoint does not verify with the bureau\'s key',
  checkpointed_row_missing: 'a row a signed checkpoint covered is gone',
  chain_missing: 'a whole chain a signed checkpoint names is gone',
  unaccounted_rows: 'rows no signature covers and no live writer accounts for',
  anchor_forged: 'a retention anchor is not genuine'
};


function renderSignIn(main) {
  const msg = h('div', { class: 'console-signin-msg', 'aria-live': 'polite' });
  const btn = on(h('button', { type: 'button', id: 'sign-in', class: 'primary' }, 'Sign in as a compliance officer'),
    'click', async () => {
      msg.replaceChildren();
      try {
        const s = await app.signIn('compliance');
        if (s) {
          render(main);
        }
      } catch (e) {
        showError(msg, e, 'Sign-in failed.');
      }
    });
  main.replaceChildren(h('section', { class: 'card', 'aria-labelledby': 'signin-h' },
    h('h2', { id: 'signin-h' }, 'Compliance console'),
    h('p', {}, 'Who looked at whose data, whether the log is intact, alerts and disputes. Sign in to continue.'),
    btn, msg));
}

// ---------------------------------------------------------------- layout

function render(main) {
  main.replaceChildren(
    h('nav', { class: 'console-nav', 'aria-label': 'Sections' },
      h('ul', {},
        h('li', {}, h('a', { href: '#log' }, 'Access log')),
        h('li', {}, h('a', { href: '#integrity' }, 'Integrity')),
        h('li', {}, h('a', { href: '#alerts' }, 'Alerts')),
        h('li', {}, h('a', { href: '#disputes' }, 'Disputes')))),
    logSection(),
    integritySection(),
    alertsSection(),
    disputesSection());
  loadLog(true);
  loadAlerts();
  loadDisputes(true);
  loadSummary();
}

// ---------------------------------------------------------------- access log

const log = { params: null, type: '', cursor: null, loading: false };

function field(id, label, control, hint) {
  control.id = id;
  const kids = [h('label', { for: id }, label), control];
  if (hint) {
    const hid = id + '-hint';
    control.setAttribute('aria-describedby', hid);
    kids.push(h('small', { id: hid, class: 'hint' }, hint));
  }
  return h('div', { class: 'field' }, ...kids);
}

function select(name, options) {
  const s = h('select', { name });
  for (const [value, text] of options) {
    s.append(h('option', { value }, text));
  }
  return s;
}

function logSection() {
  const form = h('form', { id: 'log-filters', class: 'filters', novalidate: '' },
    field('f-lender', 'Lender (member id)', h('input', { name: 'lenderId', type: 'text', autocomplete: 'off',
      spellcheck: 'false', maxlength: '64' })),
    field('f-person', 'Person (national id)', h('input', { name: 'nationalId', type: 'text', autocomplete: 'off',
      spellcheck: 'false', maxlength: '18', inputmode: 'text' }), '18 characters; sent to the bureau only, shown nowhere'),
    field('f-from', 'From (your local time)', h('input', { name: 'from', type: 'datetime-local', step: '1' })),
    field('f-to', 'To (your local time)', h('input', { name: 'to', type: 'datetime-local', step: '1' })),
    field('f-decision', 'Decision', select('decision', [['', 'Any'], ['GRANTED', 'Granted'], ['DENIED', 'Denied'],
      ['INVALID', 'Invalid']])),
    field('f-type', 'Type', select('type', [['', 'Any'], ['HARD', 'HARD (applications)'], ['SOFT', 'SOFT (account review)']])),
    field('f-purpose', 'Purpose', select('purpose', [['', 'Any'], ...PURPOSES.map((p) => [p, words(p)])])),
    field('f-action', 'Event', select('action', [['', 'Any'], ...ACTIONS.map((a) => [a, words(a)])])),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary', id: 'apply-filters' }, 'Apply filters'),
      on(h('button', { type: 'button', id: 'clear-filters' }, 'Clear'), 'click', () => {
        form.reset();
        loadLog(true);
      })));
  on(form, 'submit', (ev) => {
    ev.preventDefault();
    loadLog(true);
  });
  const exportBar = h('div', { class: 'actions export' },
    on(h('button', { type: 'button', id: 'export-ndjson' }, 'Export NDJSON'), 'click', () => exportLog('ndjson')),
    on(h('button', { type: 'button', id: 'export-csv' }, 'Export CSV'), 'click', () => exportLog('csv')));
  return h('section', { id: 'log', class: 'card', 'aria-labelledby': 'log-h' },
    h('h2', { id: 'log-h' }, 'Access log'),
    form,
    h('div', { id: 'log-problem', 'aria-live': 'assertive' }),
    h('p', { id: 'log-status', class: 'status', role: 'status' }),
    h('table', { id: 'log-table', class: 'log responsive' },
      h('caption', { class: 'visually-hidden' }, 'Access-log entries, newest first'),
      h('thead', {}, h('tr', {}, ...['Time', 'Event', 'Lender', 'Person (key)', 'Purpose', 'Type', 'Scope', 'Decision',
        'Reason', 'Row id'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', { id: 'log-rows' })),
    h('div', { class: 'actions' },
      on(h('button', { type: 'button', id: 'log-next', hidden: '' }, 'Next page'), 'click', () => loadLog(false))),
    exportBar,
    h('p', { id: 'export-status', class: 'status', role: 'status' }));
}

/** The form's filters as API query parameters; throws a ProblemError-like object when they contradict. */
function filters() {
  const form = document.getElementById('log-filters');
  const v = (n) => form.elements[n].value.trim();
  const p = new URLSearchParams();
  const errors = [];
  if (v('lenderId')) p.set('lenderId', v('lenderId'));
  if (v('nationalId')) p.set('nationalId', v('nationalId').toUpperCase());
  for (const n of ['from', 'to']) {
    if (v(n)) {
      const d = new Date(v(n));
      if (isNaN(d.getTime())) {
        errors.push({ field: n, message: 'is not a date and time' });
      } else {
        p.set(n, d.toISOString());
      }
    }
  }
  if (v('decision')) p.set('decision', v('decision'));
  if (v('action')) p.set('action', v('action'));
  const type = v('type');
  let purpose = v('purpose');
  if (type === 'SOFT') {
    if (purpose && !SOFT.includes(purpose)) {
      errors.push({ field: 'purpose', message: words(purpose) + ' is a HARD purpose; the type SOFT allows only Account review' });
    }
    purpose = 'ACCOUNT_REVIEW';
  } else if (type === 'HARD' && purpose && !HARD.includes(purpose)) {
    errors.push({ field: 'purpose', message: 'Account review is a SOFT purpose; the type HARD allows the others' });
  }
  if (purpose) p.set('purpose', purpose);
  if (type) p.set('inquiryType', type);
  if (errors.length) {
    throw new app.ProblemError({ status: 400, code: 'invalid_request', title: 'Check the filters', detail: 'the filters contradict each other', errors });
  }
  return { params: p };
}

async function loadLog(first) {
  const rows = document.getElementById('log-rows');
  const status = document.getElementById('log-status');
  const problem = document.getElementById('log-problem');
  const next = document.getElementById('log-next');
  if (log.loading) return;
  problem.replaceChildren();
  if (first) {
    try {
      const f = filters();
      log.params = f.params;
    } catch (e) {
      showError(problem, e);
      return;
    }
    log.cursor = null;
    rows.replaceChildren();
  }
  log.loading = true;
  next.disabled = true;
  status.textContent = 'Loading entries…';
  try {
    const q = new URLSearchParams(log.params);
    q.set('limit', String(PAGE));
    if (log.cursor) q.set('cursor', log.cursor);
    const page = await app.api('GET', '/v1/compliance/access-log?' + q.toString());
    const range = page.range || null;
    const found = page.items || [];
    log.cursor = page.nextCursor || null;
    for (const item of found) rows.append(logRow(item));
    const shown = rows.children.length;
    let text = shown === 0 ? 'No entries match these filters.' : shown + (shown === 1 ? ' entry' : ' entries') + ' shown';
    if (range) {
      text += ' · range ' + app.fmtTime(range.from) + ' to ' + app.fmtTime(range.to);
      if (range.capped) text += ' (cut to the newest part: the range was too wide)';
    }
    status.textContent = text + (log.cursor ? ' · more on the next page' : '');
    next.hidden = !log.cursor;
  } catch (e) {
    status.textContent = '';
    showError(problem, e, 'The access log could not be loaded.');
  } finally {
    log.loading = false;
    next.disabled = false;
  }
}

/** The access log needs the second: '1 Dec 2026, 19:31:05' in the officer's locale and zone. */
function fmtSeconds(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit',
    minute: '2-digit', second: '2-digit' });
}

function typeOf(purpose) {
  return HARD.includes(purpose) ? 'HARD' : SOFT.includes(purpose) ? 'SOFT' : '';
}

function cell(label, text, cls) {
  const td = h('td', { 'data-label': label }, text == null || text === '' ? '—' : String(text));
  if (cls) td.className = cls;
  return td;
}

function logRow(i) {
  const key = i.borrowerKey ? h('span', { title: i.borrowerKey }, i.borrowerKey.slice(0, 12) + '…') : '—';
  const keyCell = h('td', { 'data-label': 'Person (key)', class: 'mono' }, key);
  return h('tr', { 'data-id': i.id },
    cell('Time', fmtSeconds(i.at)),
    cell('Event', words(i.action)),
    cell('Lender', i.lenderId),
    keyCell,
    cell('Purpose', i.purpose ? words(i.purpose) : ''),
    cell('Type', typeOf(i.purpose)),
    cell('Scope', i.scope),
    cell('Decision', i.decision, 'decision decision-' + String(i.decision || '').toLowerCase()),
    cell('Reason', i.reason),
    cell('Row id', i.id, 'mono'));
}

// Export: fetched with the Bearer token (never a token in a URL), saved from a Blob.
async function exportLog(format) {
  const status = document.getElementById('export-status');
  const problem = document.getElementById('log-problem');
  problem.replaceChildren();
  let f;
  try {
    f = filters();
  } catch (e) {
    showError(problem, e);
    return;
  }
  const buttons = [document.getElementById('export-ndjson'), document.getElementById('export-csv')];
  buttons.forEach((b) => { b.disabled = true; });
  status.textContent = 'Preparing the ' + format.toUpperCase() + ' export…';
  try {
    const s = app.session();
    const res = await fetch('/v1/compliance/access-log/export?' + f.params.toString(), {
      headers: { Authorization: 'Bearer ' + (s ? s.token : ''), Accept: format === 'csv' ? 'text/csv' : 'application/x-ndjson' },
      cache: 'no-store'
    });
    if (!res.ok) {
      throw await problemOf(res);
    }
    let text = await res.text();
    const lines = text.split('\n').filter((l) => l.length > 0).length - (format === 'csv' ? 1 : 0);
    const blob = new Blob([text], { type: format === 'csv' ? 'text/csv' : 'application/x-ndjson' });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const name = 'access-log-' + stamp + (format === 'csv' ? '.csv' : '.ndjson');
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: name, class: 'visually-hidden' }, 'download');
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    status.textContent = 'Exported ' + lines + (lines === 1 ? ' entry' : ' entries') + ' to ' + name + '.';
  } catch (e) {
    status.textContent = '';
    showError(problem, e, 'The export failed.');
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

async function problemOf(res) {
  let body = {};
  try {
    body = await res.json();
  } catch (e) {
    body = {};
  }
  return new app.ProblemError({ status: res.status, code: body.code || 'http_' + res.status,
    title: body.title || 'The export failed', detail: body.detail || '', errors: body.errors || [],
    requestId: body.requestId || res.headers.get('X-Request-Id') });
}

// ---------------------------------------------------------------- integrity

function integritySection() {
  return h('section', { id: 'integrity', class: 'card', 'aria-labelledby': 'integrity-h' },
    h('h2', { id: 'integrity-h' }, 'Integrity'),
    h('p', {}, 'Walks the access log\'s hash chains and signed checkpoints over the filters\' time range (the last 30 days when none is set).'),
    on(h('button', { type: 'button', id: 'verify', class: 'primary' }, 'Verify integrity'), 'click', verify),
    h('div', { id: 'verify-result', 'aria-live': 'polite' }));
}

async function verify() {
  const out = document.getElementById('verify-result');
  const btn = document.getElementById('verify');
  let q;
  try {
    const f = filters().params;
    q = new URLSearchParams();
    if (f.get('from')) q.set('from', f.get('from'));
    if (f.get('to')) q.set('to', f.get('to'));
  } catch (e) {
    showError(out, e);
    return;
  }
  btn.disabled = true;
  out.replaceChildren(h('p', { class: 'status' }, 'Verifying…'));
  try {
    const r = await app.api('GET', '/v1/compliance/access-log/verify' + (q.toString() ? '?' + q.toString() : ''));
    const range = r.range ? ' from ' + app.fmtTime(r.range.from) + ' to ' + app.fmtTime(r.range.to) : '';
    if (r.intact) {
      out.replaceChildren(h('p', { class: 'verdict intact', id: 'verify-verdict' },
        'Intact: ' + r.checked + ' rows checked' + (r.chains != null ? ' in ' + r.chains + ' chains' : '') + range + '.'));
    } else {
      const dl = h('dl', { class: 'broken', id: 'verify-broken' },
        h('dt', {}, 'First broken row'), h('dd', { id: 'broken-id', class: 'mono' }, r.firstBrokenId == null ? '—' : String(r.firstBrokenId)),
        h('dt', {}, 'Chain'), h('dd', { id: 'broken-chain', class: 'mono' },
          (r.brokenChain || '—') + (r.brokenChainSeq != null ? ' (place ' + r.brokenChainSeq + ')' : '')),
        h('dt', {}, 'Problem'), h('dd', { id: 'broken-problem' },
          (r.problem || 'unknown') + (PROBLEMS[r.problem] ? ': ' + PROBLEMS[r.problem] : '')),
        h('dt', {}, 'Broken rows'), h('dd', {}, r.brokenRows != null ? String(r.brokenRows) : '—'));
      out.replaceChildren(h('p', { class: 'verdict broken-verdict', id: 'verify-verdict', role: 'alert' },
        'NOT intact: the log was changed behind the bureau\'s back. ' + r.checked + ' rows checked' + range + '.'), dl);
    }
  } catch (e) {
    showError(out, e, 'Verification failed.');
  } finally {
    btn.disabled = false;
  }
}

// ---------------------------------------------------------------- alerts

function alertsSection() {
  return h('section', { id: 'alerts', class: 'card', 'aria-labelledby': 'alerts-h' },
    h('h2', { id: 'alerts-h' }, 'Alerts'),
    h('p', {}, 'Over the filters\' time range: people queried by many lenders, and lenders with many denied inquiries.'),
    on(h('button', { type: 'button', id: 'alerts-refresh' }, 'Refresh alerts'), 'click', loadAlerts),
    h('div', { id: 'alerts-list', 'aria-live': 'polite' }));
}

async function loadAlerts() {
  const out = document.getElementById('alerts-list');
  let q = new URLSearchParams();
  try {
    const f = filters().params;
    if (f.get('from')) q.set('from', f.get('from'));
    if (f.get('to')) q.set('to', f.get('to'));
  } catch (e) {
    q = new URLSearchParams();
  }
  out.replaceChildren(h('p', { class: 'status' }, 'Loading alerts…'));
  try {
    const r = await app.api('GET', '/v1/compliance/alerts' + (q.toString() ? '?' + q.toString() : ''));
    const over = r.overBorrowing || [];
    const fishing = r.suspiciousLenders || [];
    const kids = [];
    if (!over.length && !fishing.length) {
      kids.push(h('p', { id: 'alerts-none' }, 'No alerts in this window.'));
    }
    for (const a of over) {
      kids.push(h('article', { class: 'alert-item over-borrowing' },
        h('h3', {}, 'Over-borrowing: a person queried by ' + a.distinctLenders + ' lenders'),
        evidence([
          ['Person (key)', a.borrowerKey, 'mono'],
          ['Granted inquiries', a.grantedInquiries],
          ['Lenders', (a.lenderIds || []).join(', ')],
          ['First', app.fmtTime(a.firstAt)], ['Last', app.fmtTime(a.lastAt)],
          ['Sample rows', (a.sampleIds || []).join(', '), 'mono']])));
    }
    for (const a of fishing) {
      kids.push(h('article', { class: 'alert-item suspicious' },
        h('h3', {}, 'Suspicious lender: ' + a.lenderId),
        evidence([
          ['Triggers', (a.triggers || []).map(words).join(', ')],
          ['Inquiries', a.inquiries], ['Denied', a.denied + ' (' + Math.round((a.deniedShare || 0) * 100) + ' %)'],
          ['People without consent', a.peopleWithoutConsent],
          ['First', app.fmtTime(a.firstAt)], ['Last', app.fmtTime(a.lastAt)],
          ['Sample rows', (a.sampleIds || []).join(', '), 'mono'],
          ['Sample people (keys)', (a.sampleBorrowerKeys || []).map((k) => k.slice(0, 12) + '…').join(', '), 'mono']])));
    }
    out.replaceChildren(...kids);
  } catch (e) {
    showError(out, e, 'The alerts could not be loaded.');
  }
}

function evidence(pairs) {
  const dl = h('dl', { class: 'evidence' });
  for (const [k, v, cls] of pairs) {
    dl.append(h('dt', {}, k), h('dd', cls ? { class: cls } : {}, v == null || v === '' ? '—' : String(v)));
  }
  return dl;
}

// ---------------------------------------------------------------- disputes

const disputes = { phase: 'OVERDUE', cursor: null, loading: false };

function disputesSection() {
  const form = h('form', { id: 'dispute-filters', class: 'filters' },
    field('d-view', 'Show', select('view', [['WAITING', 'Waiting for an answer (overdue first)'], ['RESOLVED', 'Resolved']])),
    field('d-lender', 'Lender (member id)', h('input', { name: 'lenderId', type: 'text', autocomplete: 'off', maxlength: '64' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'dispute-apply' }, 'Show disputes')));
  on(form, 'submit', (ev) => {
    ev.preventDefault();
    loadDisputes(true);
  });
  return h('section', { id: 'disputes', class: 'card', 'aria-labelledby': 'disputes-h' },
    h('h2', { id: 'disputes-h' }, 'Disputes'),
    h('h3', {}, 'Per member'),
    h('div', { id: 'summary', 'aria-live': 'polite' }),
    h('h3', {}, 'Each dispute'),
    form,
    h('div', { id: 'dispute-problem', 'aria-live': 'assertive' }),
    h('p', { id: 'dispute-status', class: 'status', role: 'status' }),
    h('table', { id: 'dispute-table', class: 'responsive' },
      h('caption', { class: 'visually-hidden' }, 'Disputes'),
      h('thead', {}, h('tr', {}, ...['Status', 'Lender', 'Account', 'Period', 'Reason', 'Opened', 'Due by', 'Outcome']
        .map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', { id: 'dispute-rows' })),
    h('div', { class: 'actions' },
      on(h('button', { type: 'button', id: 'dispute-next', hidden: '' }, 'Next page'), 'click', () => loadDisputes(false))));
}

async function loadSummary() {
  const out = document.getElementById('summary');
  out.replaceChildren(h('p', { class: 'status' }, 'Loading the summary…'));
  try {
    const r = await app.api('GET', '/v1/compliance/disputes/summary');
    const items = r.items || [];
    if (!items.length) {
      out.replaceChildren(h('p', {}, 'No disputes yet.'));
      return;
    }
    out.replaceChildren(h('table', { id: 'summary-table', class: 'responsive' },
      h('caption', { class: 'visually-hidden' }, 'Disputes per member'),
      h('thead', {}, h('tr', {}, ...['Lender', 'Open', 'Overdue', 'Resolved', 'Median days to resolve']
        .map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, ...items.map((i) => h('tr', {},
        cell('Lender', i.lenderId), cell('Open', i.open), cell('Overdue', i.overdue, i.overdue > 0 ? 'overdue' : ''),
        cell('Resolved', i.resolved), cell('Median days to resolve', i.medianDaysToResolve == null ? '' : i.medianDaysToResolve))))));
  } catch (e) {
    showError(out, e, 'The dispute summary could not be loaded.');
  }
}

async function loadDisputes(first) {
  const form = document.getElementById('dispute-filters');
  const rows = document.getElementById('dispute-rows');
  const status = document.getElementById('dispute-status');
  const problem = document.getElementById('dispute-problem');
  const next = document.getElementById('dispute-next');
  if (disputes.loading) return;
  const view = form.elements.view.value;
  const lender = form.elements.lenderId.value.trim();
  problem.replaceChildren();
  if (first) {
    disputes.phase = view === 'RESOLVED' ? 'RESOLVED' : 'OVERDUE';
    disputes.cursor = null;
    rows.replaceChildren();
  }
  disputes.loading = true;
  next.disabled = true;
  status.textContent = 'Loading disputes…';
  try {
    let got = 0;
    // overdue first, then those still in time; each soonest dueBy first
    while (disputes.phase && got < PAGE) {
      const q = new URLSearchParams({ status: disputes.phase, limit: String(PAGE - got) });
      if (lender) q.set('lenderId', lender);
      if (disputes.cursor) q.set('cursor', disputes.cursor);
      const page = await app.api('GET', '/v1/compliance/disputes?' + q.toString());
      for (const d of page.items || []) {
        rows.append(disputeRow(d));
        got++;
      }
      disputes.cursor = page.nextCursor || null;
      if (!disputes.cursor) {
        disputes.phase = disputes.phase === 'OVERDUE' ? 'OPEN' : null;
      }
    }
    const shown = rows.children.length;
    status.textContent = shown === 0 ? 'No disputes to show.' : shown + (shown === 1 ? ' dispute' : ' disputes') + ' shown';
    next.hidden = !disputes.phase;
  } catch (e) {
    status.textContent = '';
    showError(problem, e, 'The disputes could not be loaded.');
  } finally {
    disputes.loading = false;
    next.disabled = false;
  }
}

function disputeRow(d) {
  return h('tr', { 'data-dispute': d.disputeId, class: 'dispute-' + String(d.status).toLowerCase() },
    cell('Status', words(d.status), 'status-' + String(d.status).toLowerCase()),
    cell('Lender', d.lenderId),
    cell('Account', d.accountRef, 'mono'),
    cell('Period', d.period),
    cell('Reason', words(d.reason)),
    cell('Opened', app.fmtTime(d.openedAt)),
    cell('Due by', app.fmtTime(d.dueBy)),
    cell('Outcome', d.outcome ? words(d.outcome) + (d.note ? ': ' + d.note : '') : ''));
}

function words(code) {
  if (!code) return '';
  const s = String(code).toLowerCase().replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

boot({ title: 'Compliance console', role: 'compliance', what: 'The console', render, renderSignIn });
