// OpenBureau pages: the shared module (issue 15). Plain ES module, no build step, no framework.
//
// Exports: loadConfig, signIn, session, signOut, api, showProblem, el, fmtTime, fmtMoney, mountHeader,
// and the ProblemError class that api() throws.
//
// Sign-in:
// - demo mode (the server runs demo.seed): signIn(role) shows a chooser (<section class="signin-chooser"
//   role="dialog">) of the demo identities from /pages/config.json, one <button data-sub="..."> each,
//   plus a field #signin-sub for any other subject; the choice is exchanged for a short-lived dev token
//   at POST /pages/demo-token.
// - oidc mode: authorization code + PKCE (S256, state, nonce). signIn(role) redirects to the provider;
//   it sends the browser back to /pages/callback, which hands the code to the page that asked (in the
//   URL fragment); loadConfig() on that page exchanges it at the provider's token endpoint (from its
//   discovery document). The PKCE verifier lives in sessionStorage only for that round trip.
// The token lives in this module's memory only: never localStorage, sessionStorage or a cookie. A
// reload signs the person out. Every change of the session fires `ob:session` on window.

const PENDING = 'ob.oidc.pending';
let configPromise = null;
let current = null; // {token, sub, role, expiresAt (epoch ms)}
let headerTitle = null;

/** A problem+json answer (or a failure to get one), readable by people: status, code, title, detail, errors[]. */
export class ProblemError extends Error {
  constructor({ status = 0, code = 'error', title = 'Something went wrong', detail = '', errors = [], requestId = null } = {}) {
    super(detail ? `${title}: ${detail}` : title);
    this.name = 'ProblemError';
    this.status = status;
    this.code = code;
    this.title = title;
    this.detail = detail;
    this.errors = Array.isArray(errors) ? errors : [];
    this.requestId = requestId;
  }
}

/** /pages/config.json, once; also finishes an OIDC sign-in whose redirect just came back to this page. */
export function loadConfig() {
  if (!configPromise) {
    configPromise = (async () => {
      const cfg = await fetchJson('GET', '/pages/config.json');
      if (cfg.mode === 'oidc') {
        await finishOidc(cfg);
      }
      return cfg;
    })();
    configPromise.catch(() => { configPromise = null; });
  }
  return configPromise;
}

/** The current session {token, sub, role}, or null (none, or its token has expired). Memory only. */
export function session() {
  if (current && current.expiresAt && Date.now() >= current.expiresAt) {
    setSession(null);
  }
  return current ? { token: current.token, sub: current.sub, role: current.role } : null;
}

/** Forgets the token (memory only, so nothing else to clear). */
export function signOut() {
  setSession(null);
}

/**
 * Signs in for `role` ('borrower' | 'lender' | 'compliance'); resolves with the session.
 * demo: a chooser of the demo identities; oidc: a redirect to the provider (the promise does not
 * resolve on this page: the session is set up by loadConfig() on the way back).
 */
export async function signIn(role) {
  if (!['borrower', 'lender', 'compliance'].includes(role)) {
    throw new ProblemError({ code: 'invalid_role', title: 'Cannot sign in', detail: `unknown role ${role}` });
  }
  const cfg = await loadConfig();
  const s = session();
  if (s && s.role === role) {
    return s;
  }
  if (cfg.mode === 'demo') {
    return demoChooser(cfg, role);
  }
  if (cfg.mode === 'oidc') {
    await startOidc(cfg, role);
    return new Promise(() => {}); // the browser is leaving this page
  }
  throw new ProblemError({ code: 'sign_in_unavailable', title: 'Sign-in is not configured',
    detail: 'This bureau has neither an OpenID Connect provider (pages.oidc) nor demo mode.' });
}

/** fetch with the session's Bearer token, JSON in and out; throws ProblemError for every failure. */
export async function api(method, path, body) {
  const s = session();
  try {
    return await fetchJson(method, path, body, s ? s.token : null);
  } catch (e) {
    if (e instanceof ProblemError && e.status === 401 && s) {
      setSession(null);
      e.detail = `${e.detail ? e.detail + '. ' : ''}Please sign in again.`;
    }
    throw e;
  }
}

/** Replaces the content of `container` with a readable message (role="alert") naming the fields at fault. */
export function showProblem(container, err) {
  const p = err instanceof ProblemError ? err
    : new ProblemError({ title: 'Something went wrong', detail: err && err.message ? String(err.message) : String(err) });
  const box = el('div', { class: 'problem', role: 'alert', 'data-code': p.code, 'data-status': String(p.status) },
    el('strong', { class: 'problem-title' }, p.title || 'Something went wrong'),
    p.detail ? el('p', { class: 'problem-detail' }, p.detail) : null,
    p.errors.length ? el('ul', { class: 'problem-fields' },
      p.errors.map((f) => el('li', { 'data-field': f.field || '' },
        el('span', { class: 'field-name' }, fieldLabel(f.field)), ': ', f.message || 'is invalid'))) : null,
    p.requestId ? el('p', { class: 'problem-ref' }, `Reference: ${p.requestId}`) : null);
  if (container) {
    container.replaceChildren(box);
  }
  return box;
}

/** el('a', {href: '/x', class: 'c', onclick: fn}, 'text', child, [more]): text only ever via text nodes. */
export function el(tag, attrs, ...children) {
  const node = document.createElementNS(
    tag === 'svg' || (attrs && attrs._svg) || SVG_TAGS.has(tag) ? 'http://www.w3.org/2000/svg' : 'http://www.w3.org/1999/xhtml', tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === '_svg' || v === null || v === undefined || v === false) {
      continue;
    }
    if (k.startsWith('on') && typeof v === 'function') {
      node.addEventListener(k.slice(2), v);
    } else if (k === 'value' && 'value' in node) {
      continue; // set after the children (a <select> needs its options first)
    } else if (k === 'checked' || k === 'selected') {
      node[k] = Boolean(v);
      if (v) node.setAttribute(k, '');
    } else {
      node.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(node, children);
  if (attrs && attrs.value !== undefined && attrs.value !== null && 'value' in node) {
    node.value = String(attrs.value);
  }
  return node;
}

/** '2026-11-22T08:15:30Z' -> a readable local date and time ('—' when absent). */
export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** '12500.00', 'CNY' -> '¥12,500.00' ('—' when absent). */
export function fmtMoney(amount, currency) {
  if (amount === null || amount === undefined || amount === '') return '—';
  const n = Number(amount);
  const cur = currency || 'CNY';
  if (!Number.isFinite(n)) return `${amount} ${cur}`;
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: cur }).format(n);
  } catch (e) {
    return `${amount} ${cur}`;
  }
}

/** The site header (title, nav, who is signed in, sign-out), first in <body>; kept current on sign-in/out. */
export function mountHeader(title) {
  headerTitle = title;
  document.title = `${title} · OpenBureau`;
  renderHeader();
  if (!document.querySelector('a.skip-link')) {
    const main = document.querySelector('main');
    if (main && !main.id) main.id = 'main';
    document.body.prepend(el('a', { class: 'skip-link', href: `#${main ? main.id : 'main'}` }, 'Skip to content'));
  }
}

// ---------------------------------------------------------------------------------------------

const SVG_TAGS = new Set(['svg', 'g', 'path', 'line', 'polyline', 'polygon', 'rect', 'circle', 'text', 'title', 'desc', 'tspan']);
const ROLE_NAMES = { borrower: 'person', lender: 'lender staff', compliance: 'compliance officer' };

function append(node, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else if (c instanceof Node) node.appendChild(c);
    else node.appendChild(document.createTextNode(String(c)));
  }
}

function fieldLabel(field) {
  if (!field) return 'request';
  return String(field).replace(/^\//, '').replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[/_.]/g, ' ').toLowerCase();
}

function setSession(s) {
  current = s;
  renderHeader();
  window.dispatchEvent(new CustomEvent('ob:session', { detail: session() }));
}

function renderHeader() {
  if (headerTitle === null) return;
  const s = current;
  const here = location.pathname;
  const link = (href, text) => el('a', { href, 'aria-current': here.startsWith(href) ? 'page' : null }, text);
  const header = el('header', { class: 'site-header' },
    el('div', { class: 'site-brand' }, el('span', { class: 'site-name' }, 'OpenBureau'),
      el('h1', { class: 'site-title' }, headerTitle)),
    el('nav', { 'aria-label': 'Pages' },
      el('ul', {}, el('li', {}, link('/portal/', 'My credit')), el('li', {}, link('/console/', 'Compliance')),
        el('li', {}, link('/members/', 'Member desk')))),
    s ? el('div', { class: 'site-session' },
      el('span', { class: 'who', 'data-sub': s.sub }, `Signed in as ${ROLE_NAMES[s.role] || s.role} ${maskSub(s)}`),
      el('button', { type: 'button', class: 'secondary', id: 'sign-out', onclick: () => signOut() }, 'Sign out'))
      : el('div', { class: 'site-session' }, el('span', { class: 'who' }, 'Not signed in')));
  const old = document.querySelector('header.site-header');
  if (old) old.replaceWith(header);
  else document.body.prepend(header);
}

function maskSub(s) {
  // a national id on screen: enough to recognise it, not to copy it
  return s.role === 'borrower' && s.sub.length === 18 ? `${s.sub.slice(0, 4)}…${s.sub.slice(-4)}` : s.sub;
}

async function fetchJson(method, path, body, token) {
  const headers = { Accept: 'application/json, application/problem+json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers, cache: 'no-store', credentials: 'omit' };
  if (body !== undefined && body !== null) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ProblemError({ status: 0, code: 'network_error', title: 'The bureau cannot be reached',
      detail: 'Check your connection and try again.' });
  }
  return readAnswer(res);
}

async function readAnswer(res) {
  const text = await res.text().catch(() => '');
  const type = (res.headers.get('Content-Type') || '').toLowerCase();
  const requestId = res.headers.get('X-Request-Id');
  let data = null;
  if (text.length) {
    if (!type.includes('json')) {
      throw new ProblemError({ status: res.status, code: 'unexpected_response', title: 'Unexpected answer',
        detail: `The server answered ${res.status} ${res.statusText || ''} with something other than JSON.`.replace(/\s+\./, '.'),
        requestId });
    }
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new ProblemError({ status: res.status, code: 'unexpected_response', title: 'Unexpected answer',
        detail: `The server answered ${res.status} with JSON that cannot be read.`, requestId });
    }
  }
  if (!res.ok) {
    const p = data && typeof data === 'object' ? data : {};
    throw new ProblemError({ status: res.status, code: p.code || p.error || `http_${res.status}`,
      title: p.title || statusTitle(res.status), detail: p.detail || p.error_description || '',
      errors: Array.isArray(p.errors) ? p.errors : [], requestId: p.requestId || requestId });
  }
  return data;
}

function statusTitle(status) {
  return ({ 400: 'The request is not valid', 401: 'Please sign in', 403: 'Not allowed', 404: 'Not found',
    409: 'Conflict', 429: 'Too many requests', 503: 'Temporarily unavailable' })[status]
    || (status >= 500 ? 'The bureau had a problem' : 'The request failed');
}

// ---- demo sign-in ---------------------------------------------------------------------------

function demoChooser(cfg, role) {
  const lists = { borrower: cfg.demo.people, lender: cfg.demo.lenders, compliance: cfg.demo.officers };
  const who = lists[role] || [];
  const old = document.querySelector('.signin-chooser');
  if (old) old.remove();
  return new Promise((resolve) => {
    const message = el('div', { class: 'chooser-message', 'aria-live': 'polite' });
    const choose = async (sub) => {
      try {
        const t = await fetchJson('POST', '/pages/demo-token', { role, sub });
        box.remove();
        setSession({ token: t.token, sub: t.sub, role: t.role, expiresAt: Date.parse(t.expiresAt) || null });
        resolve(session());
      } catch (e) {
        showProblem(message, e);
      }
    };
    const other = el('input', { id: 'signin-sub', name: 'sub', autocomplete: 'off',
      inputmode: role === 'borrower' ? 'text' : null, spellcheck: 'false' });
    const box = el('section', { class: 'signin-chooser card', role: 'dialog', 'aria-modal': 'false',
      'aria-labelledby': 'signin-title' },
    el('h2', { id: 'signin-title' }, `Sign in as a demo ${ROLE_NAMES[role]}`),
    el('p', {}, 'Demo mode: pick an identity. You get a short-lived development token, kept in this page only.'),
    el('ul', { class: 'chooser-list' }, who.map((w) => el('li', {},
      el('button', { type: 'button', 'data-sub': w.sub, onclick: () => choose(w.sub) }, w.label)))),
    el('form', { class: 'chooser-other', onsubmit: (ev) => { ev.preventDefault(); choose(other.value.trim()); } },
      el('label', { for: 'signin-sub' }, role === 'borrower' ? 'Or another national id' : 'Or another id'),
      el('div', { class: 'inline' }, other, el('button', { type: 'submit', class: 'secondary' }, 'Sign in'))),
    message);
    const main = document.querySelector('main') || document.body;
    main.prepend(box);
    const first = box.querySelector('button');
    if (first) first.focus();
  });
}

// ---- OIDC: authorization code + PKCE ------------------------------------------------------------

function b64url(bytes) {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(n) {
  const a = new Uint8Array(n);
  crypto.getRandomValues(a);
  return b64url(a);
}

async function discovery(cfg) {
  const url = `${cfg.oidc.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let res;
  try {
    res = await fetch(url, { cache: 'no-store', credentials: 'omit' });
  } catch (e) {
    throw new ProblemError({ code: 'oidc_unreachable', title: 'The sign-in provider cannot be reached',
      detail: `${cfg.oidc.issuer} did not answer.` });
  }
  const d = await readAnswer(res);
  if (!d || !d.authorization_endpoint || !d.token_endpoint) {
    throw new ProblemError({ code: 'oidc_discovery', title: 'The sign-in provider is misconfigured',
      detail: 'Its discovery document names no authorization or token endpoint.' });
  }
  return d;
}

async function startOidc(cfg, role) {
  const d = await discovery(cfg);
  const verifier = randomString(48);
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const state = randomString(24);
  const nonce = randomString(24);
  sessionStorage.setItem(PENDING, JSON.stringify({ state, nonce, verifier, role,
    returnTo: location.pathname + location.search }));
  const q = new URLSearchParams({ response_type: 'code', client_id: cfg.oidc.clientId,
    redirect_uri: location.origin + cfg.oidc.redirectPath, scope: cfg.oidc.scope, state, nonce,
    code_challenge: challenge, code_challenge_method: 'S256' });
  location.assign(`${d.authorization_endpoint}${d.authorization_endpoint.includes('?') ? '&' : '?'}${q}`);
}

function claimsOf(jwt) {
  try {
    const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = decodeURIComponent(Array.from(atob(part), (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join(''));
    return JSON.parse(json);
  } catch (e) {
    return null;
  }
}

/** On the way back from the provider: the fragment holds oidc_code/oidc_state (or oidc_error). */
async function finishOidc(cfg) {
  const h = new URLSearchParams(location.hash.slice(1));
  if (!h.has('oidc_code') && !h.has('oidc_error')) return;
  history.replaceState(null, '', location.pathname + location.search);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || 'null');
  sessionStorage.removeItem(PENDING);
  if (h.has('oidc_error')) {
    throw new ProblemError({ code: h.get('oidc_error'), title: 'Sign-in was not completed',
      detail: h.get('oidc_error_description') || h.get('oidc_error') });
  }
  if (!pending || pending.state !== h.get('oidc_state')) {
    throw new ProblemError({ code: 'oidc_state', title: 'Sign-in was not completed',
      detail: 'The answer from the sign-in provider does not belong to a sign-in started here. Please try again.' });
  }
  const d = await discovery(cfg);
  let res;
  try {
    res = await fetch(d.token_endpoint, { method: 'POST', cache: 'no-store', credentials: 'omit',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: h.get('oidc_code'),
        redirect_uri: location.origin + cfg.oidc.redirectPath, client_id: cfg.oidc.clientId,
        code_verifier: pending.verifier }) });
  } catch (e) {
    throw new ProblemError({ code: 'oidc_unreachable', title: 'The sign-in provider cannot be reached',
      detail: 'The code could not be exchanged for a token.' });
  }
  const t = await readAnswer(res);
  const idClaims = t.id_token ? claimsOf(t.id_token) : null;
  if (!idClaims || idClaims.nonce !== pending.nonce) {
    throw new ProblemError({ code: 'oidc_nonce', title: 'Sign-in was not completed',
      detail: 'The identity token does not answer this sign-in (nonce mismatch).' });
  }
  const claims = claimsOf(t.access_token) || {};
  const roles = Array.isArray(claims.roles) ? claims.roles : [];
  if (!roles.includes(pending.role)) {
    throw new ProblemError({ status: 403, code: 'role_missing', title: 'Not allowed',
      detail: `Your account does not have the ${ROLE_NAMES[pending.role] || pending.role} role here.` });
  }
  const expiresAt = claims.exp ? claims.exp * 1000 : (t.expires_in ? Date.now() + t.expires_in * 1000 : null);
  setSession({ token: t.access_token, sub: claims.sub || idClaims.sub, role: pending.role, expiresAt });
}
