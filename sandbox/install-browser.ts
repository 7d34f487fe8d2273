/**
 * A person installing the app, as a browser would: opens the ingress's install page, follows its
 * "Add to Slack" link to the (local) Slack authorize page — choosing the workspace or organization
 * there with `team` — follows Slack's redirect back to the ingress with the state cookie the
 * install page set, and reads the page it ends on. Plain `fetch`, cookies carried by hand.
 */
export interface InstallVisit {
  /** The redirect's HTTP status and page. */
  status: number;
  page: string;
  /** The redirect URL Slack sent the browser to (with `code` and `state`), to replay it. */
  redirect: string;
  /** The state cookie the install page set (`name=value`). */
  cookie: string;
}

/**
 * @param ingressOrigin `http://127.0.0.1:PORT` of the local Function URL.
 * @param team the workspace (`T…`) or, for an org-wide install, the organization (`E…`).
 * @param tamper changes the redirect before the browser follows it (tests: a forged state).
 */
export async function installThroughBrowser(
  ingressOrigin: string,
  team: string,
  tamper: (redirect: URL, cookie: string) => { redirect: URL; cookie: string } = (redirect, cookie) => ({
    redirect,
    cookie,
  }),
): Promise<InstallVisit> {
  const installPage = await fetch(`${ingressOrigin}/slack/install`);
  const html = await installPage.text();
  if (installPage.status !== 200) throw new Error(`the install page answered HTTP ${installPage.status}`);
  const setCookie = installPage.headers.getSetCookie()[0] ?? '';
  const cookie = setCookie.split(';')[0] ?? '';
  const href = /href="([^"]+)"/
    .exec(html)?.[1]
    ?.replace(/&#(\d+);/g, (_, code) => String.fromCharCode(Number(code)));
  if (!href) throw new Error('the install page has no Add to Slack link');
  const authorize = new URL(href);
  authorize.searchParams.set('team', team);
  const slack = await fetch(authorize, { redirect: 'manual' });
  const location = slack.headers.get('location');
  if (slack.status !== 302 || !location)
    throw new Error(`Slack's authorize page answered HTTP ${slack.status}`);
  const visit = tamper(new URL(location), cookie);
  const back = await fetch(visit.redirect, { headers: visit.cookie ? { cookie: visit.cookie } : {} });
  return {
    status: back.status,
    page: await back.text(),
    redirect: visit.redirect.toString(),
    cookie: visit.cookie,
  };
}

/** Replays a redirect (the same `code` and `state`) with a cookie. */
export async function revisit(redirect: string, cookie: string): Promise<{ status: number; page: string }> {
  const back = await fetch(redirect, { headers: cookie ? { cookie } : {} });
  return { status: back.status, page: await back.text() };
}
