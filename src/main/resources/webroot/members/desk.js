// Dispute desk for a member lender's staff: the open disputes about the member's own accounts,
// soonest deadline first, each answered VERIFIED, CORRECTED or DELETED with a note.
// Public API only (GET /v1/furnishing/disputes, POST .../resolution), with the member's token.

import { app, boot, showError, h, on } from '/assets/page.js';

const PAGE = 50;
const OUTCOMES = [
  ['VERIFIED', 'Verified', 'The data is right as furnished; it stays as it is.'],
  ['CORRECTED', 'Corrected', 'Re-furnish the account (or that period) with the right data first; the bureau refuses Corrected until then.'],
  ['DELETED', 'Deleted', 'The data is removed from every report and from the score.']
];

let seq = 0;
const state = { cursor: null, loading: false, resolvedCursor: null };

function renderSignIn(main) {
  const msg = h('div', { 'aria-live': 'polite' });
  const btn = on(h('button', { type: 'button', id: 'sign-in', class: 'primary' }, 'Sign in as a member\'s staff'),
    'click', async () => {
      msg.replaceChildren();
      try {
        const s = await app.signIn('lender');
        if (s) render(main);
      } catch (e) {
        showError(msg, e, 'Sign-in failed.');
      }
    });
  main.replaceChildren(h('section', { class: 'card', 'aria-labelledby': 'signin-h' },
    h('h2', { id: 'signin-h' }, 'Dispute desk'),
    h('p', {}, 'People dispute what your institution furnished about them. Answer each before its deadline. Sign in to continue.'),
    btn, msg));
}

function render(main) {
  const s = app.session();
  main.replaceChildren(
    h('p', { class: 'desk-member' }, 'Member: ', h('strong', { id: 'member-id' }, s.sub)),
    h('p', {}, 'Open disputes about your accounts, soonest deadline first. A dispute not answered by its deadline is overdue: '
      + 'the disputed data is left out of the person\'s score until you answer.'),
    h('section', { id: 'open', 'aria-labelledby': 'open-h' },
      h('h2', { id: 'open-h' }, 'Waiting for an answer'),
      h('div', { id: 'open-problem', 'aria-live': 'assertive' }),
      h('p', { id: 'open-status', class: 'status', role: 'status' }),
      h('ol', { id: 'open-list', class: 'disputes' }),
      h('div', { class: 'actions' },
        on(h('button', { type: 'button', id: 'open-refresh' }, 'Refresh'), 'click', () => loadOpen(true)),
        on(h('button', { type: 'button', id: 'open-next', hidden: '' }, 'Next page'), 'click', () => loadOpen(false)))),
    h('section', { id: 'resolved', 'aria-labelledby': 'resolved-h' },
      h('h2', { id: 'resolved-h' }, 'Answered'),
      h('div', { id: 'resolved-problem', 'aria-live': 'assertive' }),
      h('ol', { id: 'resolved-list', class: 'disputes resolved' }),
      h('div', { class: 'actions' },
        on(h('button', { type: 'button', id: 'resolved-load' }, 'Show answered disputes'), 'click', () => loadResolved(true)),
        on(h('button', { type: 'button', id: 'resolved-next', hidden: '' }, 'More answered disputes'), 'click', () => loadResolved(false)))));
  loadOpen(true);
  if (!state.ticking) {
    state.ticking = setInterval(tick, 30000);
  }
}

async function loadOpen(first) {
  const list = document.getElementById('open-list');
  const status = document.getElementById('open-status');
  const problem = document.getElementById('open-problem');
  const next = document.getElementById('open-next');
  if (state.loading) return;
  state.loading = true;
  problem.replaceChildren();
  if (first) {
    state.cursor = null;
  }
  status.textContent = 'Loading disputes…';
  try {
    const q = new URLSearchParams({ status: 'OPEN', limit: String(PAGE) });
    if (state.cursor) q.set('cursor', state.cursor);
    const page = await app.api('GET', '/v1/furnishing/disputes?' + q.toString());
    if (first) list.replaceChildren();
    for (const d of page.items || []) list.append(disputeCard(d));
    state.cursor = page.nextCursor || null;
    next.hidden = !state.cursor;
    counts();
  } catch (e) {
    status.textContent = '';
    showError(problem, e, 'The disputes could not be loaded.');
  } finally {
    state.loading = false;
  }
}

function counts() {
  const list = document.getElementById('open-list');
  const status = document.getElementById('open-status');
  const n = list.querySelectorAll('li.dispute:not(.done)').length;
  const overdue = list.querySelectorAll('li.dispute.overdue:not(.done)').length;
  status.textContent = n === 0 ? 'No open disputes: nothing to answer.'
    : n + (n === 1 ? ' dispute' : ' disputes') + ' to answer' + (overdue ? ', ' + overdue + ' overdue' : '') + '.';
}

/** "3 days 4 hours left" or "overdue by 2 hours". */
function timeLeft(dueBy, now) {
  const ms = new Date(dueBy).getTime() - now;
  const abs = Math.abs(ms);
  const days = Math.floor(abs / 86400000);
  const hours = Math.floor((abs % 86400000) / 3600000);
  const minutes = Math.floor((abs % 3600000) / 60000);
  const parts = [];
  if (days) parts.push(days + (days === 1 ? ' day' : ' days'));
  if (hours || (days && !minutes)) parts.push(hours + (hours === 1 ? ' hour' : ' hours'));
  if (!days) parts.push(minutes + (minutes === 1 ? ' minute' : ' minutes'));
  const text = parts.slice(0, 2).join(' ');
  return ms >= 0 ? text + ' left' : 'overdue by ' + text;
}

function tick() {
  const now = Date.now();
  for (const li of document.querySelectorAll('#open-list li.dispute:not(.done)')) {
    const due = li.getAttribute('data-due');
    const t = li.querySelector('.time-left');
    if (due && t) {
      t.textContent = timeLeft(due, now);
      li.classList.toggle('overdue', new Date(due).getTime() < now);
    }
  }
}

function words(code) {
  if (!code) return '';
  const s = String(code).toLowerCase().replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function facts(pairs) {
  const dl = h('dl', { class: 'facts' });
  for (const [k, v, cls] of pairs) {
    dl.append(h('dt', {}, k), h('dd', cls ? { class: cls } : {}, v == null || v === '' ? '—' : String(v)));
  }
  return dl;
}

function disputeCard(d) {
  const n = ++seq;
  const overdue = d.status === 'OVERDUE' || new Date(d.dueBy).getTime() < Date.now();
  const li = h('li', { class: 'dispute card' + (overdue ? ' overdue' : ''), 'data-dispute': d.disputeId, 'data-due': d.dueBy,
    'aria-labelledby': 'dh-' + n });
  const heading = h('h3', { id: 'dh-' + n }, 'Account ' + d.accountRef + (d.period ? ', period ' + d.period : ''));
  const clock = h('p', { class: 'clock' },
    h('span', { class: 'badge status-' + String(d.status).toLowerCase() }, words(d.status)), ' ',
    h('span', { class: 'time-left' }, timeLeft(d.dueBy, Date.now())), ' · due by ' + app.fmtTime(d.dueBy));
  const problem = h('div', { class: 'resolve-problem', 'aria-live': 'assertive' });
  const form = resolveForm(d, n, problem, li);
  li.append(heading, clock,
    facts([['Reason', words(d.reason)], ['The person says', d.statement], ['Opened', app.fmtTime(d.openedAt)],
      ['Dispute id', d.disputeId, 'mono']]),
    form, problem);
  return li;
}

function resolveForm(d, n, problem, li) {
  const legendId = 'out-' + n;
  const fs = h('fieldset', { class: 'outcomes' }, h('legend', { id: legendId }, 'Outcome'));
  OUTCOMES.forEach(([value, label, help], i) => {
    const id = 'o-' + n + '-' + value;
    const hid = id + '-help';
    const input = h('input', { type: 'radio', name: 'outcome', value, id, 'aria-describedby': hid });
    if (i === 0) input.required = true;
    fs.append(h('div', { class: 'outcome' }, input, h('label', { for: id }, label), h('small', { id: hid, class: 'hint' }, help)));
  });
  const noteId = 'note-' + n;
  const note = h('textarea', { id: noteId, name: 'note', rows: '3', maxlength: '1000', required: '' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Resolve dispute');
  const form = h('form', { class: 'resolve', novalidate: '', 'aria-label': 'Resolve the dispute about account ' + d.accountRef },
    fs,
    h('div', { class: 'field' }, h('label', { for: noteId }, 'Note to the person (what you checked or changed)'), note),
    h('div', { class: 'actions' }, submit));
  on(form, 'submit', async (ev) => {
    ev.preventDefault();
    problem.replaceChildren();
    const outcome = form.elements.outcome.value;
    const text = note.value.trim();
    const errors = [];
    if (!outcome) errors.push({ field: 'outcome', message: 'choose an outcome' });
    if (!text) errors.push({ field: 'note', message: 'write a note (1 to 1000 characters)' });
    if (errors.length) {
      showError(problem, new app.ProblemError({ status: 400, code: 'invalid_request', title: 'Check the answer',
        detail: 'the dispute was not resolved', errors }));
      (outcome ? note : fs.querySelector('input')).focus();
      return;
    }
    submit.disabled = true;
    try {
      const r = await app.api('POST', '/v1/furnishing/disputes/' + encodeURIComponent(d.disputeId) + '/resolution',
        { outcome, note: text });
      li.classList.add('done');
      form.replaceWith(h('p', { class: 'resolved-msg', role: 'status' },
        'Resolved: ' + words(r.outcome) + ' at ' + app.fmtTime(r.resolvedAt) + '. The person is told.'));
      li.querySelector('.clock').replaceChildren(h('span', { class: 'badge status-resolved' }, 'Resolved'));
      counts();
    } catch (e) {
      showError(problem, e, 'The answer was not saved.');
      submit.disabled = false;
    }
  });
  return form;
}

async function loadResolved(first) {
  const list = document.getElementById('resolved-list');
  const problem = document.getElementById('resolved-problem');
  const next = document.getElementById('resolved-next');
  problem.replaceChildren();
  if (first) state.resolvedCursor = null;
  try {
    const q = new URLSearchParams({ status: 'RESOLVED', limit: String(PAGE) });
    if (state.resolvedCursor) q.set('cursor', state.resolvedCursor);
    const page = await app.api('GET', '/v1/furnishing/disputes?' + q.toString());
    if (first) list.replaceChildren();
    for (const d of page.items || []) {
      list.append(h('li', { class: 'dispute card done', 'data-dispute': d.disputeId },
        h('h3', {}, 'Account ' + d.accountRef + (d.period ? ', period ' + d.period : '')),
        facts([['Outcome', words(d.outcome)], ['Note', d.note], ['Resolved', d.resolvedAt ? app.fmtTime(d.resolvedAt) : ''],
          ['Reason', words(d.reason)], ['The person said', d.statement]])));
    }
    if (first && !(page.items || []).length) list.append(h('li', {}, 'No answered disputes yet.'));
    state.resolvedCursor = page.nextCursor || null;
    next.hidden = !state.resolvedCursor;
  } catch (e) {
    showError(problem, e, 'The answered disputes could not be loaded.');
  }
}

boot({ title: 'Dispute desk', role: 'lender', what: 'The desk', render, renderSignIn });
