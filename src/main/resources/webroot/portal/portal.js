import { loadConfig, signIn, session, mountHeader, showProblem, el } from '/assets/app.js';

mountHeader('My credit');
const main = document.querySelector('main');
loadConfig().then(() => {
  if (!session()) {
    main.replaceChildren(el('button', { type: 'button', id: 'sign-in', onclick: () => signIn('borrower') }, 'Sign in'));
  }
}).catch((e) => showProblem(main, e));
