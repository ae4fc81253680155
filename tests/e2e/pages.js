// The pages that explain, in headless Chromium (Debian's) against the real timepool-web: the
// owner of a server 5 s off reads why it is out of DNS and sees the off-scale points on the
// offset chart; a save confirms itself after a redirect and a reload posts nothing again; a
// volunteer adds the vendor role and has both; a small country's zone page says where its
// answers come from and that it is underserved; the zone list hides empty zones; the footer
// opens the API documentation; the add-server form shows the load to expect at each netspeed,
// live with the script and after "Show the expected load" without it.
// Run by run_pages.py, which seeds the data. Screenshots go to $SHOTS.
'use strict';
const { check, shot, shotFile, run } = require('./browser');

const base = process.env.BASE_URL;
const sid = process.env.SERVER_ID;

async function login(page) {
  await page.goto(base + '/login');
  await page.fill('input[name=email]', process.env.OWNER_EMAIL);
  await page.fill('input[name=password]', process.env.OWNER_PASSWORD);
  await Promise.all([page.waitForNavigation(), page.click('main button[type=submit]')]);
}

async function ownerSeesWhy(page) {
  await page.goto(base + '/scores/198.51.100.77');
  const headline = (await page.textContent('#why-headline')).trim();
  check(headline === 'Not in DNS: its time is off by +5000.100 ms', `why: "${headline}"`);
  const reasons = await page.textContent('#why-reasons');
  check(reasons.includes('Offset too large in 7 of the last 10 probes: the newest was +5000.100 ms'),
        'the reason gives the count and the value');
  check((await page.textContent('#why-todo')).includes('chronyc sources'), 'and what to do');
  check((await page.textContent('#status')).trim() === headline, 'the status line says the same');
  const offset = page.locator('svg.chart').nth(1);
  check((await offset.locator('.offscale').count()) === 1, 'the offset chart marks off-scale points');
  const labels = await offset.locator('.offscale-label').allTextContents();
  check(labels.includes('+5000 ms'), `the off-scale mark gives the value (${labels.join(', ')})`);
  const title = await offset.locator('text.ct').textContent();
  check(/^Offset \(ms, last 3 hours\)$/.test(title), `the chart title names its range: "${title}"`);
  await shot(page, '01-owner-why-offset');
  await offset.screenshot({ path: shotFile('02-offset-chart-offscale') });
}

async function saveConfirmsOnce(page) {
  await page.goto(base + '/servers/' + sid);
  check((await page.textContent('#why-headline')).includes('+5000.100 ms'), 'the Manage page explains too');
  await page.selectOption('form[action$="/netspeed"] select[name=netspeed]', '3000');
  const posts = [];
  page.on('request', (r) => { if (r.method() === 'POST') posts.push(r.url()); });
  await Promise.all([page.waitForNavigation(), page.click('form[action$="/netspeed"] button')]);
  check(page.url() === base + '/servers/' + sid, 'the POST redirected to the server page (GET)');
  check((await page.textContent('#flash')).includes('Saved: the netspeed of 198.51.100.77 is now 3 Mbit/s'),
        'the save is confirmed');
  await shot(page, '03-save-confirmed');
  const before = posts.length;
  await page.reload();
  check(posts.length === before, 'reloading sends no POST');
  check((await page.locator('#flash').count()) === 0, 'and the confirmation is shown once');
}

async function bothRoles(page) {
  await page.goto(base + '/account');
  check((await page.textContent('#roles')).trim() === 'volunteer', 'a volunteer');
  await page.check('#roles-form input[name=vendor]');
  await Promise.all([page.waitForNavigation(), page.click('#roles-form button')]);
  check((await page.textContent('#flash')).includes('Saved: your account is now volunteer and vendor.'),
        'roles saved and confirmed');
  check((await page.textContent('#roles')).trim() === 'volunteer and vendor', 'both roles');
  const nav = await page.textContent('header nav');
  check(nav.includes('My servers') && nav.includes('Vendor zones'), 'the navigation has both');
  await shot(page, '04-account-both-roles');
  await page.goto(base + '/vendor');
  check(await page.isVisible('#vendor-form'), 'the vendor form opens');
  await page.goto(base + '/servers');
  check((await page.textContent('#my-servers')).includes('198.51.100.77'), 'and the servers stay');
}

async function zones(page) {
  await page.goto(base + '/zone/nl');
  const note = await page.textContent('#fallback');
  check(note.includes('nl.pool.test has 1 server, fewer than geo_min_servers (3): clients in nl ' +
                      'asking pool.test or a vendor zone get answers from europe.'),
        'the zone page says where its answers come from');
  check(await page.isVisible('#zone-history svg.chart'), 'and charts its servers over time');
  await shot(page, '05-zone-nl-fallback');
  check((await page.textContent('#zone-underserved')).trim() === 'Underserved',
        'the zone page says nl is underserved (most of the demand, one small server)');
  check(await page.isVisible('#zone-demand-chart svg.chart'), 'and charts its demand');
  await shot(page, '05b-zone-nl-underserved');
  await page.goto(base + '/zones');
  const rows = await page.locator('#zones tbody tr').count();
  check(rows < 20, `the zone list shows only zones with servers (${rows} rows)`);
  await shot(page, '06-zone-list');
  await Promise.all([page.waitForNavigation(), page.click('#zone-filter a')]);
  check((await page.locator('#zones tbody tr').count()) > 200, '?all=1 lists every zone');
  await Promise.all([page.waitForNavigation(), page.click('footer a#api-link')]);
  check(page.url() === base + '/api', 'the footer opens the API documentation');
  check((await page.textContent('h1')).trim() === 'timepool-web JSON API', 'rendered as a page');
  check((await page.locator('#api-docs table').count()) >= 2, 'with its tables');
  await shot(page, '07-api-docs');
}

// The seeded demand (run_pages.py): 8,800 IPv4 queries in the last hour from nl, de and fr,
// whose servers (1,500 kbit/s each, 4 in DNS) are too few for any country to be a tier, so
// europe's tier carries all of it shared by netspeed: a new 3 Mbit/s server in nl gets
// 8800 * 3000 / 9000 per hour, 0.815 per second.
const kExpect3000 = 'At 3 Mbit/s expect about 0.815 for an IPv4 server, 0 for an IPv6 server';

async function netspeedRates(page) {
  await page.goto(base + '/servers');
  await Promise.all([page.waitForNavigation(),
                     page.selectOption('#add-server select[name=country]', 'nl')]);
  check((await page.getAttribute('#netspeed-rates', 'data-country')) === 'nl',
        'choosing a country shows its expected load');
  await page.selectOption('#add-server select[name=netspeed]', '3000');
  const expect = await page.textContent('#netspeed-expect');
  check(expect.includes(kExpect3000), `the rate follows the netspeed select: "${expect}"`);
  check((await page.getAttribute('#netspeed-rates tr.chosen', 'data-netspeed')) === '3000',
        'and its row is marked');
  check((await page.textContent('#netspeed-rates')).includes('an estimate'), 'said to be an estimate');
  await shot(page, '08-add-server-expected-load');
  await page.goto(base + '/servers/' + sid);
  check(await page.isVisible('#netspeed-form #netspeed-rates'), 'the edit form shows it too');
}

async function netspeedRatesWithoutScript(browser) {
  const ctx = await browser.newContext({ javaScriptEnabled: false });
  const page = await ctx.newPage();
  await login(page);
  await page.goto(base + '/servers');
  await page.selectOption('#add-server select[name=country]', 'nl');
  await page.selectOption('#add-server select[name=netspeed]', '3000');
  await Promise.all([page.waitForNavigation(), page.click('#show-rates')]);
  const expect = await page.textContent('#netspeed-expect');
  check(expect.includes(kExpect3000), `without the script, the button shows it: "${expect}"`);
  check((await page.locator('#add-server input[name=address]').count()) === 1, 'on the form');
  await shot(page, '09-add-server-expected-load-no-script');
  await ctx.close();
}

run(async (browser) => {
  const ctx = await browser.newContext({ viewport: { width: 1024, height: 800 } });
  const page = await ctx.newPage();
  await login(page);
  await ownerSeesWhy(page);
  await saveConfirmsOnce(page);
  await bothRoles(page);
  await zones(page);
  await netspeedRates(page);
  await ctx.close();
  await netspeedRatesWithoutScript(browser);
});
