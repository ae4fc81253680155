// The journeys of the web site in headless Chromium (Debian's), end to end against the real
// timepool-web: a volunteer adds a loopback server and sees its page; a vendor requests a zone;
// an admin approves it and the vendor then sees the names to ship; a vendor whose fleet bursts
// sees the finding first on the zone page with a chart whose burst is one minute wide, makes an
// API token and a script reads the API with it. Screenshots go to $SHOTS. Run by run_e2e.py,
// which starts the database, chronyd and the site and seeds the fleet's counts.
'use strict';
const { check, shot, shotFile, run } = require('./browser');
const http = require('http');

const base = process.env.BASE_URL;
const adminEmail = process.env.ADMIN_EMAIL;
const adminPassword = process.env.ADMIN_PASSWORD;
const stamp = Date.now().toString(36);

async function signup(page, email, role) {
  await page.goto(base + '/signup');
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', 'a long password 1');
  await page.check(`input[name=role][value=${role}]`);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
}

async function volunteerJourney(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1024, height: 800 } });
  const page = await ctx.newPage();
  await page.goto(base + '/');
  await shot(page, '00-home');
  await signup(page, `vol-${stamp}@example.org`, 'volunteer');
  check(page.url().endsWith('/servers'), 'volunteer lands on My servers');
  await page.fill('#add-server input[name=address]', '127.0.0.1');
  await page.selectOption('#add-server select[name=netspeed]', '25000');
  await page.selectOption('#add-server select[name=country]', 'de');
  await shot(page, '01-volunteer-add-form');
  // Enter in the address field: the form's default button (the first submit button) adds the
  // server; the expected-load preview button comes after it.
  await Promise.all([page.waitForNavigation({ timeout: 30000 }), page.press('#add-server input[name=address]', 'Enter')]);
  // The check page reloads itself until the check has ended, then leads to the server's page.
  await page.waitForURL(/\/servers\/\d+$/, { timeout: 30000 });
  check(/\/servers\/\d+$/.test(page.url()), 'redirected to the new server\'s page');
  const added = await page.textContent('#flash');
  check(added.includes('Server added: 127.0.0.1 joined the pool in de'), 'server added');
  check(added.includes('The check saw stratum 2'), 'the check saw stratum 2');
  await shot(page, '02-volunteer-added');
  await Promise.all([page.waitForNavigation(), page.click('#score-link')]);
  check((await page.textContent('h1')).trim() === '127.0.0.1', 'score page of 127.0.0.1');
  check((await page.locator('svg.chart').count()) === 2, 'score page has two SVG charts');
  await shot(page, '03-volunteer-score-page');
  // The same page on a phone.
  const phone = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true });
  const p2 = await phone.newPage();
  await p2.goto(base + '/scores/127.0.0.1');
  const overflow = await p2.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  check(!overflow, 'score page fits a phone screen without sideways scrolling');
  await shot(p2, '04-phone-score-page');
  await phone.close();
  await ctx.close();
}

async function vendorRequests(browser, zone) {
  const ctx = await browser.newContext({ viewport: { width: 1024, height: 800 } });
  const page = await ctx.newPage();
  await signup(page, `vendor-${stamp}@example.org`, 'vendor');
  check(page.url().endsWith('/vendor'), 'vendor lands on Vendor zones');
  await page.fill('#vendor-form input[name=name]', zone);
  await page.fill('#vendor-form input[name=organization]', 'Example Gadgets Ltd');
  await page.fill('#vendor-form input[name=contact]', 'Eve Example <eve@example.org>');
  await page.fill('#vendor-form textarea[name=device_description]', 'Wi-Fi weather stations');
  await page.fill('#vendor-form input[name=device_count]', '50000');
  await page.selectOption('#vendor-form select[name=client_type]', 'both');
  await page.fill('#vendor-form textarea[name=poll_description]', 'SNTP every hour at a random minute');
  await shot(page, '05-vendor-form');
  await Promise.all([page.waitForNavigation(), page.click('#vendor-form button[type=submit]')]);
  check((await page.textContent('#my-requests')).includes(zone), 'request listed');
  check((await page.textContent('#my-requests')).includes('waiting'), 'request is waiting');
  await shot(page, '06-vendor-waiting');
  return { ctx, page };
}

async function adminApproves(browser, zone) {
  const ctx = await browser.newContext({ viewport: { width: 1024, height: 800 } });
  const page = await ctx.newPage();
  await page.goto(base + '/login');
  await page.fill('input[name=email]', adminEmail);
  await page.fill('input[name=password]', adminPassword);
  await Promise.all([page.waitForNavigation(), page.click('main button[type=submit]')]);
  check(page.url().endsWith('/admin'), 'admin lands on the queue');
  const card = page.locator('#request-' + zone);
  check(await card.isVisible(), 'request in the queue');
  await shot(page, '07-admin-queue');
  await Promise.all([page.waitForNavigation(), card.locator('text=Approve').click()]);
  check(!(await page.isVisible('#request-' + zone)), 'request left the queue');
  await shot(page, '08-admin-approved');
  await ctx.close();
}

// A script: plain HTTP with a bearer token, no browser and no cookies.
function scriptGet(url, token) {
  return new Promise((resolve, reject) => {
    const headers = token ? { Authorization: 'Bearer ' + token } : {};
    http.get(url, { headers }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

async function vendorSeesFindings(browser) {
  const zone = process.env.FLEET_ZONE;
  const ctx = await browser.newContext({ viewport: { width: 1024, height: 800 } });
  const page = await ctx.newPage();
  await page.goto(base + '/login');
  await page.fill('input[name=email]', process.env.FLEET_EMAIL);
  await page.fill('input[name=password]', process.env.FLEET_PASSWORD);
  await Promise.all([page.waitForNavigation(), page.click('main button[type=submit]')]);
  await page.goto(base + '/vendor');
  const row = page.locator(`#my-requests tr[data-zone="${zone}"]`);
  check((await row.locator('.finding-flag').count()) === 1, 'zone list flags the zone with findings');
  await Promise.all([page.waitForNavigation(), row.locator('a').click()]);
  check(page.url().endsWith('/vendor/' + process.env.FLEET_REQUEST), 'zone page opened');

  // The finding and its fix first: above the charts, the names and the snippets, and on screen
  // without scrolling.
  const findings = await page.locator('#findings').boundingBox();
  const chart = await page.locator('svg.chart').first().boundingBox();
  const names = await page.locator('#names').boundingBox();
  check(findings.y < chart.y && findings.y < names.y, 'findings come before charts and names');
  check(findings.y < 800, 'findings are in the first screen');
  const text = await page.textContent('#findings');
  check(/every Sunday at 19:45-19:47 UTC your devices send \d+ times your normal load for 3 minutes/.test(text),
        'the weekly finding names the 19:45-19:47 window');
  check(/seen once, watching: on \w+ \d{4}-\d\d-\d\d at \d\d:\d\d UTC/.test(text),
        'the first burst is shown at once, watched');
  check(text.includes('Add a random delay before each query') && text.includes("Kiss-o'-Death"),
        'the fix for an SNTP fleet: a random delay, respect Kiss-o\'-Death');

  // The per-minute chart: the burst three hours ago is one minute wide, in pixels, both as the
  // marked window and as the step line's peak.
  const minuteChart = page.locator('svg.chart').first();
  const geometry = await minuteChart.evaluate((svg) => {
    const frame = svg.querySelector('rect.frame').getBoundingClientRect();
    const marks = [...svg.querySelectorAll('rect.burst-mark')].map((r) => r.getBoundingClientRect().width);
    const line = svg.querySelector('polyline.step');
    const ctm = line.getScreenCTM();
    const pts = [...line.points].map((p) => ({ x: p.x * ctm.a, y: p.y * ctm.d }));
    let top = pts[0];
    for (const p of pts) if (p.y < top.y) top = p;
    const peak = pts.filter((p) => p.y === top.y).map((p) => p.x);
    return { frame: frame.width, marks, peak: Math.max(...peak) - Math.min(...peak) };
  });
  const minute = geometry.frame / 1440;
  check(geometry.marks.some((w) => Math.abs(w - minute) < minute * 0.1),
        `a burst mark is one minute wide (${minute.toFixed(3)} px)`);
  check(Math.abs(geometry.peak - minute) < minute * 0.1,
        `the chart's peak is one minute wide (${geometry.peak.toFixed(3)} px), not hours`);
  await shot(page, '10-vendor-findings');
  await minuteChart.screenshot({ path: shotFile('11-minute-chart') });

  // A token for a script.
  await page.fill('#token-form input[name=label]', 'fleet dashboard');
  await Promise.all([page.waitForNavigation(), page.click('#token-form button[type=submit]')]);
  const token = (await page.textContent('#new-token')).trim();
  check(/^tpk_[0-9a-f]{64}$/.test(token), 'the token is shown once');
  await shot(page, '12-token-created');
  const api = await scriptGet(`${base}/api/zone/${zone}/findings`, token);
  check(api.status === 200, 'a script reads the findings with the token');
  const j = JSON.parse(api.body);
  check(j.findings.some((f) => f.period === 'weekly' && f.window_minutes === 3),
        'the API gives the weekly 3-minute finding');
  const queries = await scriptGet(`${base}/api/zone/${zone}/queries?resolution=minute`, token);
  check(queries.status === 200 && JSON.parse(queries.body).counts.some((c) => c[1] === 500),
        'and the per-minute counts with the burst');
  check((await scriptGet(`${base}/api/zone/${zone}/findings`)).status === 401,
        'without the token the script gets 401');
  await page.goto(base + '/vendor/' + process.env.FLEET_REQUEST);
  check((await page.textContent('#tokens')).includes('fleet dashboard'), 'the token is listed');
  check(!(await page.textContent('main')).includes(token), 'the token is not shown again');
  await ctx.close();
}

run(async (browser) => {
  await volunteerJourney(browser);
  const zone = 'gadgets-' + stamp;
  const vendor = await vendorRequests(browser, zone);
  await adminApproves(browser, zone);
  const page = vendor.page;
  await page.goto(base + '/vendor');
  await Promise.all([page.waitForNavigation(), page.click(`#my-requests a:text("${zone}")`)]);
  const names = await page.textContent('#names');
  check(names.includes(`0.${zone}.pool.test`) && names.includes(`3.${zone}.pool.test`) &&
        names.includes(`${zone}.pool.test`), 'vendor page shows the names to ship');
  check((await page.textContent('main')).includes('systemd-timesyncd'), 'vendor page has the snippets');
  await shot(page, '09-vendor-approved-names');
  await vendor.ctx.close();
  await vendorSeesFindings(browser);
});
