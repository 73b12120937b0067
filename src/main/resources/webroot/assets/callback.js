// The OIDC redirect URI (/pages/callback): hands the code back to the page that started the sign-in,
// in the URL fragment (never sent to a server), where app.js exchanges it with the PKCE verifier.
const q = new URLSearchParams(location.search);
const pending = JSON.parse(sessionStorage.getItem('ob.oidc.pending') || 'null');
const status = document.getElementById('callback-status');
const back = pending && typeof pending.returnTo === 'string' && /^\/(portal|console|members)\//.test(pending.returnTo)
  ? pending.returnTo : '/portal/';
const f = new URLSearchParams();
if (q.has('code') && q.has('state')) {
  f.set('oidc_code', q.get('code'));
  f.set('oidc_state', q.get('state'));
} else {
  f.set('oidc_error', q.get('error') || 'no_code');
  f.set('oidc_error_description', q.get('error_description') || 'The sign-in provider sent no code.');
}
if (!pending) {
  status.textContent = 'This sign-in was not started from this browser tab. Go back to the page and sign in again.';
} else {
  location.replace(`${back}#${f}`);
}
