// @ts-check
/**
 * The console: sign in with a token, then namespaces → repositories → triggers → records, and
 * the tokens of a namespace, every screen reachable by its address. Wiring only; each
 * screen is a module of views/.
 */
import { createApi } from './api.js';
import { byId, h, unsay } from './dom.js';
import { amendRoute, currentRoute, navigate, onRouteChange, routeLink } from './router.js';
import { clearSession, readSession, saveSession } from './session.js';
import { namespaceView } from './view-namespace.js';
import { namespacesView } from './view-namespaces.js';
import { recordDialog } from './view-record-detail.js';
import { repositoryView } from './view-repository.js';
import { wireSignIn } from './view-sign-in.js';
import { triggerView } from './view-trigger.js';

const signInScreen = byId('sign-in-screen', HTMLElement);
const consoleScreen = byId('console-screen', HTMLElement);
const viewSlot = byId('view', HTMLElement);
const crumbs = byId('crumbs', HTMLElement);
const who = byId('who', HTMLElement);
const message = byId('message', HTMLElement);

let session = readSession();
/** @type {import('./view-context.js').View | null} */
let view = null;

const api = createApi(
  () => session?.token ?? '',
  () =>
    signOut('Signed out: the token is no longer accepted (revoked, rotated out or expired). Sign in again.'),
);
const dialog = recordDialog(api, (id) => amendRoute({ record: id }));
const signIn = wireSignIn((accepted) => {
  session = accepted;
  saveSession(accepted);
  const route = currentRoute();
  // A namespace token lands in its namespace; a deep link of the admin stays where it was.
  if (accepted.namespace && route.ns !== accepted.namespace)
    navigate({ ns: accepted.namespace }, { replace: true });
  else render();
});

/** @param {string} [why] */
function signOut(why) {
  if (!session) return;
  session = null;
  clearSession();
  view?.close();
  view = null;
  dialog.close();
  render(why);
}

byId('sign-out', HTMLButtonElement).addEventListener('click', () => signOut('Signed out.'));

/** @param {import('./types.js').Route} route */
function renderCrumbs(route) {
  /** @type {Node[]} */
  const items = [];
  if (!session?.namespace) items.push(routeLink({}, 'Namespaces'));
  if (route.ns) items.push(routeLink({ ns: route.ns }, route.ns));
  if (route.ns && route.repo) items.push(routeLink({ ns: route.ns, repo: route.repo }, route.repo));
  if (route.ns && route.repo && route.trigger)
    items.push(
      routeLink(
        { ns: route.ns, repo: route.repo, trigger: route.trigger },
        `trigger ${route.trigger.slice(0, 8)}`,
      ),
    );
  const last = items.at(-1);
  if (last instanceof HTMLElement) last.setAttribute('aria-current', 'page');
  crumbs.replaceChildren(
    h(
      'ol',
      {},
      items.map((item) => h('li', {}, item)),
    ),
  );
  who.textContent = session?.namespace ? `namespace token of ${session.namespace}` : 'global admin';
  return last instanceof HTMLElement ? last : null;
}

/** Shows the screen of the address. @param {string} [signedOutWhy] */
function render(signedOutWhy) {
  const route = currentRoute();
  view?.close();
  view = null;
  unsay(message);
  if (!session) {
    // Nothing read with the last token stays on the page.
    viewSlot.replaceChildren();
    crumbs.replaceChildren();
    consoleScreen.hidden = true;
    signInScreen.hidden = false;
    document.title = 'Sign in · Registry Triggers';
    signIn.prefill(route.ns);
    signIn.show(signedOutWhy);
    return;
  }
  signInScreen.hidden = true;
  consoleScreen.hidden = false;
  if (session.namespace && route.ns !== session.namespace) {
    navigate({ ns: session.namespace }, { replace: true });
    return;
  }
  const here = renderCrumbs(route);
  /** @type {import('./view-context.js').ViewContext} */
  const context = {
    api,
    route,
    admin: !session.namespace,
    openRecord: (record) => dialog.show(record),
    nameHere: (name) => {
      if (here) here.textContent = name;
    },
  };
  if (route.ns && route.repo && route.trigger)
    view = triggerView(context, route.ns, route.repo, route.trigger);
  else if (route.ns && route.repo) view = repositoryView(context, route.ns, route.repo);
  else if (route.ns) view = namespaceView(context, route.ns);
  else view = namespacesView(context);
  document.title = `${[route.ns, route.repo].filter(Boolean).join('/') || 'Namespaces'} · Registry Triggers`;
  viewSlot.replaceChildren(view.element);
  if (route.record && route.ns) void dialog.showById(route.ns, route.record);
}

onRouteChange(() => {
  dialog.close();
  render();
});
render();
