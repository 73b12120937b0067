// The borrower portal (/portal/): consents, who looked, own report, disputes, freeze and fraud alert,
// notifications. Public API only (/v1/me/*, /v1/lenders), through app.js.
import { loadConfig, signIn, session, mountHeader, showProblem, api, el, fmtTime, fmtMoney } from '/assets/app.js';

const main = document.querySelector('main');
const TABS = [
  ['consents', 'Consents'], ['looked', 'Who looked'], ['report', 'My report'], ['disputes', 'Disputes'],
  ['protection', 'Freeze & fraud alert'], ['inbox', 'Inbox'],
];
const PURPOSES = {
  LOAN_ORIGINATION: 'Applying for a loan (hard inquiry)',
  CARD_APPLICATION: 'Applying for a credit card (hard inquiry)',
  GUARANTOR_CHECK: 'Checking you as a guarantor (hard inquiry)',
  ACCOUNT_REVIEW: 'Reviewing an account you hold (soft inquiry)',
};
const SCOPES = { SCORE: 'Your score only', REPORT: 'Your full report (includes the score)' };
const BANDS = {
  POOR: 'lenders are likely to refuse new credit or ask for more.',
  FAIR: 'some lenders will lend, often on stricter terms.',
  GOOD: 'most lenders will consider you on normal terms.',
  VERY_GOOD: 'you are likely to be offered good terms.',
  EXCELLENT: 'the best terms are usually open to you.',
};
const REASONS = {
  NOT_MINE: 'This account is not mine', WRONG_BALANCE: 'The balance is wrong', WRONG_STATUS: 'The status is wrong',
  WRONG_DELINQUENCY: 'The days past due are wrong', ALREADY_PAID: 'I already paid this', OTHER: 'Something else',
};
const OUTCOMES = { VERIFIED: 'The lender checked and confirmed the data', CORRECTED: 'The lender corrected the data',
  DELETED: 'The data was deleted from your report' };
const panels = {};
let lendersCache = null;
let reportCache = null;
let refreshTimer = null;
let prefill = null;

mountHeader('My credit');
start();

async function start() {
  try {
    await loadConfig();
  } catch (e) {
    main.replaceChildren(el('div', { id: 'portal-message' }));
    showProblem(main.querySelector('#portal-message'), e);
    signInPrompt(false);
    return;
  }
  window.addEventListener('ob:session', () => render());
  render();
}

function signInPrompt(clear = true) {
  const msg = el('div', { id: 'signin-message' });
  const box = el('section', { class: 'card', 'aria-labelledby': 'welcome-title' },
    el('h2', { id: 'welcome-title' }, 'See and control your credit file'),
    el('p', {}, 'Who holds your consent, who looked at your data, your score and what drives it, disputes, freeze.'),
    el('button', { type: 'button', id: 'sign-in', onclick: async () => {
      try {
        await signIn('borrower');
      } catch (e) {
        showProblem(msg, e);
      }
    } }, 'Sign in'), msg);
  if (clear) main.replaceChildren(box);
  else main.append(box);
}

function render() {
  clearInterval(refreshTimer);
  const s = session();
  if (!s || s.role !== 'borrower') {
    signInPrompt();
    return;
  }
  const list = el('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Sections of your file' });
  const wrap = el('div', {});
  for (const [id, label] of TABS) {
    list.append(el('button', { type: 'button', role: 'tab', id: `tab-${id}`, 'aria-controls': `panel-${id}`,
      'aria-selected': 'false', tabindex: '-1', onclick: () => select(id), onkeydown: tabKeys }, label));
    panels[id] = el('section', { id: `panel-${id}`, role: 'tabpanel', 'aria-labelledby': `tab-${id}`, hidden: true, tabindex: '0' });
    wrap.append(panels[id]);
  }
  main.replaceChildren(list, wrap);
  const wanted = location.hash.slice(1);
  select(TABS.some(([id]) => id === wanted) ? wanted : 'consents', false);
}

function tabKeys(ev) {
  const ids = TABS.map(([id]) => id);
  const at = ids.indexOf(ev.currentTarget.id.slice(4));
  let next = null;
  if (ev.key === 'ArrowRight') next = ids[(at + 1) % ids.length];
  if (ev.key === 'ArrowLeft') next = ids[(at - 1 + ids.length) % ids.length];
  if (ev.key === 'Home') next = ids[0];
  if (ev.key === 'End') next = ids[ids.length - 1];
  if (next) {
    ev.preventDefault();
    select(next);
    document.getElementById(`tab-${next}`).focus();
  }
}

function select(id, updateHash = true) {
  clearInterval(refreshTimer);
  for (const [t] of TABS) {
    const tab = document.getElementById(`tab-${t}`);
    tab.setAttribute('aria-selected', String(t === id));
    tab.setAttribute('tabindex', t === id ? '0' : '-1');
    panels[t].hidden = t !== id;
  }
  if (updateHash) history.replaceState(null, '', `#${id}`);
  LOADERS[id](panels[id]);
  if (id === 'inbox' || id === 'looked') {
    // new events reach the inbox within seconds: keep the open list fresh
    refreshTimer = setInterval(() => { if (!document.hidden) LOADERS[id](panels[id], true); }, 4000);
  }
}

const LOADERS = { consents: loadConsents, looked: loadLooked, report: loadReport, disputes: loadDisputes,
  protection: loadProtection, inbox: loadInbox };

function loading(panel, title) {
  panel.replaceChildren(el('h2', {}, title), el('p', { class: 'muted', role: 'status' }, 'Loading…'));
}

function badge(text, kind) {
  return el('span', { class: `badge ${kind}` }, text);
}

async function lenders() {
  if (!lendersCache) {
    const all = [];
    let cursor = null;
    do {
      const page = await api('GET', `/v1/lenders?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      all.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor && all.length < 10000);
    lendersCache = all;
  }
  return lendersCache;
}

function lenderName(id) {
  const l = (lendersCache || []).find((x) => x.id === id);
  return l ? `${l.name} (${id})` : id;
}

// ---- consents -----------------------------------------------------------------------------------

async function loadConsents(panel) {
  loading(panel, 'Consents');
  const message = el('div', { id: 'consent-message', 'aria-live': 'polite' });
  try {
    const [list] = await Promise.all([api('GET', '/v1/me/consents'), lenders().catch(() => [])]);
    const items = [...list.items].sort((a, b) => (a.status === 'ACTIVE' ? 0 : 1) - (b.status === 'ACTIVE' ? 0 : 1));
    panel.replaceChildren(
      el('h2', {}, 'Consents'),
      el('p', { class: 'muted' }, 'A lender may look at your data only with your consent (or to review an account you hold with it). Active consents first.'),
      message,
      items.length ? el('ul', { class: 'items', id: 'consent-list' }, items.map((c) => consentItem(c, message)))
        : el('p', { id: 'consent-list-empty' }, 'You have not given any consent.'),
      grantForm(message));
  } catch (e) {
    panel.replaceChildren(el('h2', {}, 'Consents'), message);
    showProblem(message, e);
  }
}

function consentItem(c, message) {
  const active = c.status === 'ACTIVE';
  const actions = el('div', { class: 'inline' });
  const li = el('li', { 'data-consent-id': c.consentId, 'data-status': c.status, 'data-lender': c.lenderId },
    el('div', { class: 'inline' }, el('strong', {}, lenderName(c.lenderId)),
      badge(c.status === 'ACTIVE' ? 'Active' : c.status === 'REVOKED' ? 'Revoked' : 'Expired', active ? 'ok' : 'neutral')),
    el('dl', { class: 'facts' },
      el('dt', {}, 'Purpose'), el('dd', {}, PURPOSES[c.purpose] || c.purpose),
      el('dt', {}, 'Scope'), el('dd', {}, SCOPES[c.scope] || c.scope),
      el('dt', {}, 'Granted'), el('dd', {}, fmtTime(c.grantedAt)),
      el('dt', {}, c.status === 'REVOKED' ? 'Revoked' : 'Expires'),
      el('dd', {}, fmtTime(c.status === 'REVOKED' ? c.revokedAt : c.expiresAt))),
    actions);
  if (active) {
    const revoke = el('button', { type: 'button', class: 'danger revoke', onclick: () => confirm() }, `Revoke consent for ${c.lenderId}`);
    const confirm = () => {
      actions.replaceChildren(
        el('p', { role: 'alert' }, `Revoke this consent? ${c.lenderId} will not be able to look at your data under it any more.`),
        el('button', { type: 'button', class: 'danger confirm-revoke', onclick: async (ev) => {
          ev.currentTarget.disabled = true;
          try {
            await api('DELETE', `/v1/me/consents/${encodeURIComponent(c.consentId)}`);
            await loadConsents(panels.consents);
            const m = document.getElementById('consent-message');
            if (m) m.replaceChildren(el('p', { class: 'notice', role: 'status' }, `Consent for ${c.lenderId} revoked.`));
          } catch (e) {
            showProblem(message, e);
          }
        } }, 'Yes, revoke'),
        el('button', { type: 'button', class: 'secondary', onclick: () => actions.replaceChildren(revoke) }, 'Keep it'));
      actions.querySelector('.confirm-revoke').focus();
    };
    actions.append(revoke);
  }
  return li;
}

function grantForm(message) {
  const formMessage = el('div', { id: 'grant-message', 'aria-live': 'polite' });
  const options = (lendersCache || []).map((l) => el('option', { value: l.id }, `${l.name} (${l.id})`));
  const form = el('form', { id: 'grant-form', class: 'stack card', novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const days = String(f.get('durationDays') || '').trim();
    const body = { lenderId: f.get('lenderId'), purpose: f.get('purpose'), scope: f.get('scope') };
    if (days !== '') body.durationDays = /^-?\d+$/.test(days) ? Number(days) : days;
    try {
      const c = await api('POST', '/v1/me/consents', body);
      await loadConsents(panels.consents);
      const m = document.getElementById('consent-message');
      if (m) m.replaceChildren(el('p', { class: 'notice', role: 'status' }, `Consent granted to ${c.lenderId} until ${fmtTime(c.expiresAt)}.`));
    } catch (e) {
      showProblem(formMessage, e);
    }
  } },
  el('h3', {}, 'Give a consent'),
  el('div', {}, el('label', { for: 'grant-lender' }, 'Lender'),
    options.length ? el('select', { id: 'grant-lender', name: 'lenderId', required: true }, options)
      : el('input', { id: 'grant-lender', name: 'lenderId', required: true, autocomplete: 'off' })),
  el('div', {}, el('label', { for: 'grant-purpose' }, 'Purpose'),
    el('select', { id: 'grant-purpose', name: 'purpose' }, Object.entries(PURPOSES).map(([v, t]) => el('option', { value: v }, t)))),
  el('div', {}, el('label', { for: 'grant-scope' }, 'What the lender may see'),
    el('select', { id: 'grant-scope', name: 'scope' }, Object.entries(SCOPES).map(([v, t]) => el('option', { value: v }, t)))),
  el('div', {}, el('label', { for: 'grant-days' }, 'For how many days ', el('span', { class: 'hint' }, '(1 to 365)')),
    el('input', { id: 'grant-days', name: 'durationDays', inputmode: 'numeric', value: '30', autocomplete: 'off' })),
  el('div', {}, el('button', { type: 'submit', id: 'grant-submit' }, 'Give consent')),
  formMessage);
  return form;
}

// ---- who looked -----------------------------------------------------------------------------------

async function loadLooked(panel, quiet) {
  if (!quiet) loading(panel, 'Who looked at your data');
  const message = el('div', { id: 'looked-message', 'aria-live': 'polite' });
  try {
    const [list] = await Promise.all([api('GET', '/v1/me/inquiries?limit=200'), lenders().catch(() => [])]);
    const rows = list.items.map((i) => el('tr', { 'data-lender': i.lenderId, 'data-decision': i.decision },
      el('td', {}, fmtTime(i.at)), el('td', {}, lenderName(i.lenderId)),
      el('td', {}, PURPOSES[i.purpose] ? i.purpose.replace(/_/g, ' ').toLowerCase() : (i.purpose || '—')),
      el('td', {}, i.inquiryType === 'SOFT' ? badge('SOFT', 'neutral') : i.inquiryType === 'HARD' ? badge('HARD', 'warn') : '—'),
      el('td', {}, i.decision === 'GRANTED' ? badge('Granted', 'ok') : badge('Denied', 'bad'),
        i.reason && i.decision !== 'GRANTED' ? el('span', { class: 'muted' }, ` ${String(i.reason).replace(/_/g, ' ')}`) : null)));
    panel.replaceChildren(el('h2', {}, 'Who looked at your data'),
      el('p', { class: 'muted' }, 'Every time a lender asked about you, whether or not it was allowed. Hard inquiries (applications) can weigh on your score; soft ones never do.'),
      message,
      rows.length ? el('div', { class: 'table-wrap' }, el('table', { id: 'inquiry-table' },
        el('caption', { class: 'visually-hidden' }, 'Inquiries about you, newest first'),
        el('thead', {}, el('tr', {}, ['When', 'Lender', 'Purpose', 'Type', 'Outcome'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, rows)))
        : el('p', { id: 'inquiry-empty' }, 'Nobody has looked at your data yet.'));
  } catch (e) {
    if (!quiet) panel.replaceChildren(el('h2', {}, 'Who looked at your data'), message);
    showProblem(panel.querySelector('#looked-message') || message, e);
  }
}

// ---- report -----------------------------------------------------------------------------------------

async function loadReport(panel) {
  loading(panel, 'My report');
  const message = el('div', { id: 'report-message', 'aria-live': 'polite' });
  try {
    const [report] = await Promise.all([api('GET', '/v1/me/report'), lenders().catch(() => [])]);
    reportCache = report;
    const score = report.score;
    panel.replaceChildren(el('h2', {}, 'My report'), message,
      el('div', { class: 'grid two' },
        el('section', { class: 'card', 'aria-labelledby': 'score-title' }, el('h3', { id: 'score-title' }, 'Score'),
          score ? [
            el('p', { class: 'score', id: 'score-value' }, String(score.value)),
            el('p', { id: 'score-band' }, el('strong', {}, score.band.replace('_', ' ').toLowerCase().replace(/^./, (c) => c.toUpperCase())),
              BANDS[score.band] ? `: ${BANDS[score.band]}` : ''),
            el('p', { class: 'muted' }, `Range 300 to 850. As of ${fmtTime(score.asOf)}.`),
            el('h4', {}, 'What weighs on it most'),
            score.reasons && score.reasons.length
              ? el('ol', { id: 'reasons' }, score.reasons.map((r) => el('li', { 'data-code': r.code }, r.description || r.code)))
              : el('p', { id: 'reasons' }, 'Nothing in particular: keep paying on time.'),
          ] : el('p', { id: 'score-value' }, 'No score yet: the bureau has no credit accounts reported for you.')),
        el('section', { class: 'card', 'aria-labelledby': 'ob-title' }, el('h3', { id: 'ob-title' }, 'Borrowing at a glance'),
          overBorrowing(report.overBorrowing))),
      chart(report.tradelines),
      el('h3', {}, 'Your accounts'),
      report.tradelines.length ? el('ul', { class: 'items', id: 'tradelines' }, report.tradelines.map(tradelineItem))
        : el('p', {}, 'No accounts are reported about you.'));
  } catch (e) {
    panel.replaceChildren(el('h2', {}, 'My report'), message);
    showProblem(message, e);
  }
}

function overBorrowing(ob) {
  if (!ob) return el('p', {}, '—');
  return el('dl', { class: 'facts' },
    el('dt', {}, 'Open loans'), el('dd', {}, String(ob.activeLoans ?? '—')),
    el('dt', {}, 'Outstanding'), el('dd', {}, fmtMoney(ob.outstandingBalance)),
    el('dt', {}, 'Lenders that checked you (30 days)'), el('dd', {}, String(ob.distinctLenders30d ?? '—')),
    el('dt', {}, 'Flags'), el('dd', {}, ob.flags && ob.flags.length ? ob.flags.map((f) => f.replace(/_/g, ' ').toLowerCase()).join(', ') : 'none'));
}

function disputeMark(d) {
  return d ? badge(`Disputed: ${d.status.toLowerCase()}`, d.status === 'RESOLVED' ? 'neutral' : 'warn') : null;
}

function tradelineItem(t) {
  const periods = t.repayments || [];
  return el('li', { 'data-account': t.accountRef, 'data-lender': t.lenderId },
    el('div', { class: 'inline' }, el('strong', {}, `${t.productType.replace(/_/g, ' ').toLowerCase()} · ${lenderName(t.lenderId)}`),
      badge(t.status, t.status === 'OPEN' ? 'ok' : t.status === 'CLOSED' ? 'neutral' : 'bad'), disputeMark(t.dispute)),
    el('dl', { class: 'facts' },
      el('dt', {}, 'Account'), el('dd', {}, t.accountRef),
      el('dt', {}, 'Balance'), el('dd', {}, fmtMoney(t.balance, t.currency)),
      el('dt', {}, t.creditLimit ? 'Credit limit' : 'Borrowed'), el('dd', {}, fmtMoney(t.creditLimit || t.principal, t.currency)),
      el('dt', {}, 'Days past due'), el('dd', {}, String(t.daysPastDue)),
      el('dt', {}, 'Opened'), el('dd', {}, t.openedAt)),
    periods.length ? el('details', {}, el('summary', {}, `Repayments (${periods.length} months)`),
      el('div', { class: 'table-wrap' }, el('table', {},
        el('thead', {}, el('tr', {}, ['Month', 'Due', 'Paid', 'Days late', ''].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, periods.map((p) => el('tr', { 'data-period': p.period },
          el('td', {}, p.period), el('td', {}, fmtMoney(p.amountDue, t.currency)), el('td', {}, fmtMoney(p.amountPaid, t.currency)),
          el('td', {}, String(p.daysPastDue)),
          el('td', {}, p.dispute ? disputeMark(p.dispute) : el('button', { type: 'button', class: 'secondary dispute-period',
            'data-account': t.accountRef, 'data-lender': t.lenderId, 'data-period': p.period,
            onclick: () => openDisputeFor(t.lenderId, t.accountRef, p.period) }, `Dispute ${p.period}`)))))))) : null,
    t.dispute && t.dispute.status !== 'RESOLVED' ? null : el('button', { type: 'button', class: 'secondary dispute-account',
      'data-account': t.accountRef, 'data-lender': t.lenderId,
      onclick: () => openDisputeFor(t.lenderId, t.accountRef, '') }, `Dispute this account`));
}

function openDisputeFor(lenderId, accountRef, period) {
  // the disputes view applies this when it builds its form (however long its data takes to come)
  prefill = { account: `${lenderId}|${accountRef}`, period: period || '' };
  select('disputes');
}

/** Amount due per month (all accounts, line) and the worst days past due that month (red bars). */
function chart(tradelines) {
  const months = new Map();
  for (const t of tradelines) {
    for (const p of t.repayments || []) {
      const m = months.get(p.period) || { due: 0, dpd: 0 };
      m.due += Number(p.amountDue) || 0;
      m.dpd = Math.max(m.dpd, p.daysPastDue || 0);
      months.set(p.period, m);
    }
  }
  const keys = [...months.keys()].sort().slice(-24);
  const section = el('section', { class: 'card', 'aria-labelledby': 'chart-title' }, el('h3', { id: 'chart-title' }, 'Repayments over time'));
  if (!keys.length) {
    section.append(el('p', { id: 'history-empty' }, 'No monthly repayments are reported yet.'));
    return section;
  }
  const W = 640, H = 240, L = 56, R = 44, T = 16, B = 36;
  const maxDue = Math.max(1, ...keys.map((k) => months.get(k).due));
  const maxDpd = Math.max(30, ...keys.map((k) => months.get(k).dpd));
  const x = (i) => L + (keys.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (keys.length - 1));
  const yDue = (v) => H - B - (v / maxDue) * (H - T - B);
  const yDpd = (v) => H - B - (v / maxDpd) * (H - T - B);
  const bw = Math.max(4, Math.min(18, (W - L - R) / keys.length / 2));
  const summary = `${keys.length} months from ${keys[0]} to ${keys[keys.length - 1]}; highest amount due ${fmtMoney(maxDue)}; `
    + `${keys.filter((k) => months.get(k).dpd > 0).length} months paid late.`;
  const svg = el('svg', { id: 'history-chart', class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'chart-svg-title chart-svg-desc' },
    el('title', { id: 'chart-svg-title' }, 'Amount due per month and days past due'),
    el('desc', { id: 'chart-svg-desc' }, summary),
    [0, 0.5, 1].map((f) => el('line', { class: 'grid-line', x1: L, x2: W - R, y1: yDue(maxDue * f), y2: yDue(maxDue * f) })),
    el('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }),
    el('text', { x: 4, y: yDue(maxDue) + 4 }, fmtMoney(maxDue).replace(/\.00$/, '')),
    el('text', { x: 4, y: H - B + 4 }, '0'),
    el('text', { x: W - R + 4, y: yDpd(maxDpd) + 4 }, `${maxDpd}d`),
    keys.map((k, i) => (months.get(k).dpd > 0 ? el('rect', { class: 'dpd', x: x(i) - bw / 2, width: bw,
      y: yDpd(months.get(k).dpd), height: H - B - yDpd(months.get(k).dpd) }, el('title', {}, `${k}: ${months.get(k).dpd} days past due`)) : null)),
    el('polyline', { class: 'balance', points: keys.map((k, i) => `${x(i)},${yDue(months.get(k).due)}`).join(' ') }),
    keys.map((k, i) => {
      const step = Math.ceil(keys.length / 6);
      const last = keys.length - 1;
      const show = i === last || (i % step === 0 && last - i >= step / 2 + 0.5) || (i === 0);
      return show ? el('text', { x: x(i) - 18, y: H - 12 }, k) : null;
    }));
  section.append(svg, el('p', { class: 'legend' },
    el('span', {}, el('span', { class: 'swatch balance' }), 'Amount due that month (all accounts)'),
    el('span', {}, el('span', { class: 'swatch dpd' }), 'Days past due (worst account that month)')),
  el('p', { class: 'muted' }, summary));
  return section;
}

// ---- disputes ---------------------------------------------------------------------------------------

function clock(d) {
  if (d.status === 'RESOLVED') return `Resolved ${fmtTime(d.resolvedAt)}`;
  const ms = Date.parse(d.dueBy) - Date.now();
  if (d.status === 'OVERDUE' || ms <= 0) return `Overdue since ${fmtTime(d.dueBy)}: the data is left out of your score until the lender answers`;
  const days = Math.floor(ms / 86400000);
  const hours = Math.floor((ms % 86400000) / 3600000);
  return `The lender must answer by ${fmtTime(d.dueBy)} (${days} days ${hours} hours left)`;
}

async function loadDisputes(panel) {
  loading(panel, 'Disputes');
  const message = el('div', { id: 'dispute-message', 'aria-live': 'polite' });
  try {
    const [list, report] = await Promise.all([api('GET', '/v1/me/disputes'), reportCache ? Promise.resolve(reportCache)
      : api('GET', '/v1/me/report'), lenders().catch(() => [])]);
    reportCache = report;
    panel.replaceChildren(el('h2', {}, 'Disputes'),
      el('p', { class: 'muted' }, 'If something in your report is wrong, say so. The lender that reported it must answer within the legal deadline; if it does not, the data stops counting against you.'),
      message,
      list.items.length ? el('ul', { class: 'items', id: 'dispute-list' }, list.items.map((d) => el('li', {
        'data-dispute-id': d.disputeId, 'data-status': d.status },
      el('div', { class: 'inline' }, el('strong', {}, `${lenderName(d.lenderId)} · ${d.accountRef}${d.period ? ` · ${d.period}` : ''}`),
        badge(d.status === 'RESOLVED' ? 'Resolved' : d.status === 'OVERDUE' ? 'Overdue' : 'Open', d.status === 'RESOLVED' ? 'ok' : d.status === 'OVERDUE' ? 'bad' : 'warn')),
      el('dl', { class: 'facts' },
        el('dt', {}, 'Reason'), el('dd', {}, REASONS[d.reason] || d.reason),
        el('dt', {}, 'Your words'), el('dd', {}, d.statement),
        el('dt', {}, 'Opened'), el('dd', {}, fmtTime(d.openedAt)),
        el('dt', {}, 'Clock'), el('dd', { class: 'dispute-clock' }, clock(d)),
        d.outcome ? [el('dt', {}, 'Outcome'), el('dd', { class: 'dispute-outcome' }, OUTCOMES[d.outcome] || d.outcome,
          d.note ? el('span', { class: 'muted' }, ` — “${d.note}”`) : null)] : null))))
        : el('p', { id: 'dispute-empty' }, 'You have not opened any dispute.'),
      disputeForm(report));
  } catch (e) {
    panel.replaceChildren(el('h2', {}, 'Disputes'), message);
    showProblem(message, e);
  }
}

function disputeForm(report) {
  const formMessage = el('div', { id: 'dispute-form-message', 'aria-live': 'polite' });
  const accounts = report.tradelines;
  const period = el('select', { id: 'dispute-period', name: 'period' });
  const account = el('select', { id: 'dispute-account', name: 'account', onchange: () => periods() },
    accounts.map((t) => el('option', { value: `${t.lenderId}|${t.accountRef}` },
      `${t.accountRef} · ${lenderName(t.lenderId)} · ${t.productType.replace(/_/g, ' ').toLowerCase()}`)));
  const periods = () => {
    const [l, a] = account.value.split('|');
    const t = accounts.find((x) => x.lenderId === l && x.accountRef === a);
    period.replaceChildren(el('option', { value: '' }, 'The whole account'),
      ...((t && t.repayments) || []).map((p) => el('option', { value: p.period }, `Only the month ${p.period}`)));
  };
  if (prefill && accounts.some((t) => `${t.lenderId}|${t.accountRef}` === prefill.account)) {
    account.value = prefill.account;
  }
  periods();
  if (prefill && account.value === prefill.account) {
    period.value = prefill.period;
  }
  const focusReason = Boolean(prefill);
  prefill = null;
  if (!accounts.length) {
    return el('p', { class: 'card' }, 'There is nothing to dispute: no accounts are reported about you.');
  }
  const form = el('form', { id: 'dispute-form', class: 'stack card', novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    const [lenderId, accountRef] = account.value.split('|');
    const body = { lenderId, accountRef, reason: form.querySelector('#dispute-reason').value,
      statement: form.querySelector('#dispute-statement').value };
    if (period.value) body.period = period.value;
    try {
      const d = await api('POST', '/v1/me/disputes', body);
      reportCache = null;
      await loadDisputes(panels.disputes);
      const m = document.getElementById('dispute-message');
      if (m) m.replaceChildren(el('p', { class: 'notice', role: 'status' }, `Dispute opened. ${clock(d)}.`));
    } catch (e) {
      showProblem(formMessage, e);
    }
  } },
  el('h3', {}, 'Open a dispute'),
  el('div', {}, el('label', { for: 'dispute-account' }, 'Account'), account),
  el('div', {}, el('label', { for: 'dispute-period' }, 'What is wrong: the account or one month'), period),
  el('div', {}, el('label', { for: 'dispute-reason' }, 'Reason'),
    el('select', { id: 'dispute-reason', name: 'reason' }, Object.entries(REASONS).map(([v, t]) => el('option', { value: v }, t)))),
  el('div', {}, el('label', { for: 'dispute-statement' }, 'In your own words ', el('span', { class: 'hint' }, '(1 to 1000 characters)')),
    el('textarea', { id: 'dispute-statement', name: 'statement', maxlength: '2000' })),
  el('div', {}, el('button', { type: 'submit', id: 'dispute-submit' }, 'Open dispute')),
  formMessage);
  if (focusReason) setTimeout(() => form.querySelector('#dispute-reason').focus(), 0);
  return form;
}

// ---- freeze and fraud alert ---------------------------------------------------------------------------

async function loadProtection(panel) {
  loading(panel, 'Freeze & fraud alert');
  const message = el('div', { id: 'protection-message', 'aria-live': 'polite' });
  const act = async (method, path, body, done) => {
    try {
      await api(method, path, body);
      await loadProtection(panels.protection);
      const m = document.getElementById('protection-message');
      if (m) m.replaceChildren(el('p', { class: 'notice', role: 'status' }, done));
    } catch (e) {
      showProblem(document.getElementById('protection-message') || message, e);
    }
  };
  try {
    const [freeze, alert] = await Promise.all([api('GET', '/v1/me/freeze'), api('GET', '/v1/me/fraud-alert')]);
    // a timed lift: not frozen now, frozen again by itself at liftedUntil
    const lifted = !freeze.frozen && freeze.liftedUntil && Date.parse(freeze.liftedUntil) > Date.now();
    const minutes = el('input', { id: 'lift-minutes', name: 'minutes', inputmode: 'numeric', value: '60', autocomplete: 'off' });
    const days = el('input', { id: 'alert-days', name: 'days', inputmode: 'numeric', value: '365', autocomplete: 'off' });
    const num = (v) => (/^-?\d+$/.test(v.trim()) ? Number(v.trim()) : v.trim());
    panel.replaceChildren(el('h2', {}, 'Freeze & fraud alert'), message,
      el('div', { class: 'grid two' },
        el('section', { class: 'card', 'aria-labelledby': 'freeze-title' }, el('h3', { id: 'freeze-title' }, 'Freeze'),
          el('p', { id: 'freeze-status', 'data-frozen': String(freeze.frozen) },
            freeze.frozen ? `Frozen since ${fmtTime(freeze.since)}: no lender can open new credit checks on you.`
              : lifted ? `Freeze lifted until ${fmtTime(freeze.liftedUntil)}: lenders you consented to can look until then; it freezes again by itself.`
                : 'Not frozen.'),
          el('p', { class: 'muted' }, 'A freeze stops every hard inquiry (applications for credit), even with your consent. Reviews of accounts you hold go on.'),
          freeze.frozen ? null : el('button', { type: 'button', id: 'freeze-on', onclick: () => act('PUT', '/v1/me/freeze', null, 'Your file is frozen.') }, lifted ? 'Freeze again now' : 'Freeze my file'),
          freeze.frozen ? el('form', { class: 'stack', novalidate: true, onsubmit: (ev) => {
            ev.preventDefault();
            act('DELETE', `/v1/me/freeze?minutes=${encodeURIComponent(minutes.value.trim())}`, null, 'The freeze is lifted for a while.');
          } },
          el('label', { for: 'lift-minutes' }, 'Lift it for a while: minutes ', el('span', { class: 'hint' }, '(1 to 10080; it freezes again by itself)')),
          el('div', { class: 'inline' }, minutes, el('button', { type: 'submit', id: 'freeze-lift', class: 'secondary' }, 'Lift for a while'))) : null,
          freeze.frozen || lifted ? el('button', { type: 'button', id: 'freeze-off', class: 'secondary', onclick: () => act('DELETE', '/v1/me/freeze', null, 'The freeze is lifted.') }, lifted ? 'End the freeze for good' : 'Lift the freeze') : null),
        el('section', { class: 'card', 'aria-labelledby': 'alert-title' }, el('h3', { id: 'alert-title' }, 'Fraud alert'),
          el('p', { id: 'alert-status', 'data-active': String(alert.active) },
            alert.active ? `Active until ${fmtTime(alert.until)}: every lender that looks is told to check it is really you.` : 'No fraud alert.'),
          el('form', { class: 'stack', novalidate: true, onsubmit: (ev) => {
            ev.preventDefault();
            act('PUT', '/v1/me/fraud-alert', { days: num(days.value) }, 'The fraud alert is on.');
          } },
          el('label', { for: 'alert-days' }, alert.active ? 'Extend it: days ' : 'Set one: days ', el('span', { class: 'hint' }, '(1 to 2555)')),
          el('div', { class: 'inline' }, days, el('button', { type: 'submit', id: 'alert-on' }, alert.active ? 'Renew alert' : 'Set fraud alert'))),
          alert.active ? el('button', { type: 'button', id: 'alert-off', class: 'secondary', onclick: () => act('DELETE', '/v1/me/fraud-alert', null, 'The fraud alert is off.') }, 'End the alert') : null)));
  } catch (e) {
    panel.replaceChildren(el('h2', {}, 'Freeze & fraud alert'), message);
    showProblem(message, e);
  }
}

// ---- inbox ---------------------------------------------------------------------------------------------

const KINDS = { INQUIRY: 'Inquiry', NEGATIVE_DATA: 'Negative data', CONSENT: 'Consent', FREEZE: 'Freeze',
  FRAUD_ALERT: 'Fraud alert', DISPUTE: 'Dispute' };

async function loadInbox(panel, quiet) {
  if (!quiet) loading(panel, 'Inbox');
  const message = el('div', { id: 'inbox-message', 'aria-live': 'polite' });
  try {
    const list = await api('GET', '/v1/me/notifications?limit=100');
    const items = list.items.map((n) => el('li', { 'data-kind': n.kind, 'data-id': String(n.id) },
      el('div', { class: 'inline' }, badge(KINDS[n.kind] || n.kind, n.kind === 'NEGATIVE_DATA' ? 'bad' : 'neutral'),
        el('span', { class: 'muted' }, fmtTime(n.at))),
      el('p', { class: 'inbox-message' }, n.message)));
    const old = panel.querySelector('#inbox-list');
    if (quiet && old && old.children.length === items.length) return;
    panel.replaceChildren(el('h2', {}, 'Inbox'),
      el('p', { class: 'muted' }, 'Everything that happened to your file, newest first.'),
      el('button', { type: 'button', id: 'inbox-refresh', class: 'secondary', onclick: () => loadInbox(panels.inbox) }, 'Refresh'),
      message,
      items.length ? el('ul', { class: 'items', id: 'inbox-list' }, items) : el('p', { id: 'inbox-empty' }, 'Nothing yet.'));
  } catch (e) {
    if (!quiet) panel.replaceChildren(el('h2', {}, 'Inbox'), message);
    showProblem(panel.querySelector('#inbox-message') || message, e);
  }
}

