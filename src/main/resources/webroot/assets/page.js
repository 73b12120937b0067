// The start every staff page shares (console, desk): load /assets/app.js, mount the header, read
// the sign-in configuration, then render the page for a signed-in user of the right role or its
// sign-in. Any failure on the way shows a readable message, never a blank screen.

/** The shared module (/assets/app.js) once loaded: a live binding for the pages that import it. */
export let app = null;

/**
 * @param {{title: string, role: string, what: string, render: function(HTMLElement), renderSignIn: function(HTMLElement)}} page
 *   what names the page in messages ("The console could not ...")
 */
export async function boot(page) {
  const main = document.getElementById('main');
  try {
    app = await import('/assets/app.js');
  } catch (e) {
    fail(main, page.what + ' could not load its scripts. Reload the page; if it keeps happening, tell the bureau\'s operators.');
    return;
  }
  try {
    app.mountHeader(page.title);
    await app.loadConfig();
  } catch (e) {
    showError(main, e, page.what + ' could not load its configuration.');
    return;
  }
  window.addEventListener('ob:session', (ev) => {
    if (!ev.detail) page.renderSignIn(main);
  });
  const s = app.session();
  if (!s || s.role !== page.role) {
    page.renderSignIn(main);
    return;
  }
  page.render(main);
}

export function fail(main, text) {
  main.replaceChildren();
  const p = document.createElement('p');
  p.className = 'problem';
  p.setAttribute('role', 'alert');
  p.textContent = text;
  main.append(p);
}

export function showError(container, err, fallback) {
  container.replaceChildren();
  if (app && app.showProblem) {
    app.showProblem(container, err instanceof app.ProblemError ? err
      : new app.ProblemError({ title: fallback || 'Something went wrong', detail: err && err.message ? String(err.message) : '' }));
  } else {
    const p = document.createElement('p');
    p.className = 'problem';
    p.setAttribute('role', 'alert');
    p.textContent = (fallback ? fallback + ' ' : '') + (err && err.message ? err.message : '');
    container.append(p);
  }
}

/** app.el without the null / false children a page builds conditionally. */
export function h(tag, attrs, ...kids) {
  return app.el(tag, attrs || {}, ...kids.filter((k) => k !== null && k !== undefined && k !== false));
}

export function on(node, type, fn) {
  node.addEventListener(type, fn);
  return node;
}
