// Accounts by mail in headless Chromium, link by link, against the real timepool-web and a real
// SMTP server (aiosmtpd): a new volunteer cannot add a server until the address is confirmed;
// the link from the confirmation mail confirms it once; "forgot password" answers alike for
// an unknown address; the link from the reset mail sets a new password once, the old one stops
// working and the new one logs in. Run by run_mail.py, which reads the received mail for this
// script from $MAIL_DIR (one .eml per message).
'use strict';
const { check, shot, run } = require('./browser');
const fs = require('fs');
const path = require('path');

const base = process.env.BASE_URL;
const mailDir = process.env.MAIL_DIR;
const stamp = Date.now().toString(36);

// RFC 2045 quoted-printable, enough for the site's mail (UTF-8 text).
function qpDecode(s) {
  const bytes = [];
  const text = s.replace(/=\r?\n/g, '');
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '=' && /^[0-9A-F]{2}$/.test(text.substr(i + 1, 2))) {
      bytes.push(parseInt(text.substr(i + 1, 2), 16));
      i += 2;
    } else {
      bytes.push(text.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

// The messages to `to` received so far: [{subject, body}].
function mailsTo(to) {
  if (!fs.existsSync(mailDir)) return [];
  const out = [];
  for (const name of fs.readdirSync(mailDir).sort()) {
    if (!name.endsWith('.eml')) continue;
    const raw = fs.readFileSync(path.join(mailDir, name), 'latin1');
    const split = raw.indexOf('\r\n\r\n');
    const head = raw.slice(0, split);
    if (!new RegExp('^To: ' + to.replace(/[.+]/g, '\\$&') + '\r?$', 'mi').test(head)) continue;
    const subject = (head.match(/^Subject: (.*)$/mi) || [])[1];
    out.push({ subject, body: qpDecode(raw.slice(split + 4)) });
  }
  return out;
}

async function waitMail(to, n, what) {
  for (let i = 0; i < 300; i++) {
    const m = mailsTo(to);
    if (m.length >= n) return m[n - 1];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no mail: ' + what);
}

function linkIn(mail, route) {
  const m = mail.body.match(new RegExp('(https?://\\S+' + route.replace(/[/?]/g, '\\$&') + '\\S*)'));
  return m && m[1];
}

async function submit(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

async function journey(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1024, height: 800 } });
  const page = await ctx.newPage();
  const email = `mail-${stamp}@example.org`;

  // Sign up: the account exists, the address is not confirmed yet.
  await page.goto(base + '/signup');
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', 'the first password');
  await page.check('input[name=role][value=volunteer]');
  await submit(page, 'button[type=submit]');
  check(page.url().endsWith('/servers'), 'signed up, on My servers');
  await page.fill('#add-server input[name=address]', '192.0.2.1');
  await submit(page, '#add-submit');
  check((await page.textContent('h1')).includes('Confirm your e-mail address first'),
        'adding a server waits for the confirmed address');
  await shot(page, 'mail-01-unconfirmed');

  // The confirmation mail and its link.
  const verify = await waitMail(email, 1, 'confirmation');
  check(/Confirm your e-mail address/.test(verify.subject), 'the confirmation mail arrived');
  const verifyLink = linkIn(verify, '/account/verify?token=');
  check(verifyLink && verifyLink.startsWith(base), 'it holds a link to this site');
  await page.goto(verifyLink);
  await submit(page, 'button:has-text("Confirm my address")');
  check(page.url().endsWith('/account?ok=verified'), 'the link confirmed the address');
  check((await page.content()).includes('Your e-mail address is confirmed.'),
        'the account page says so');
  await shot(page, 'mail-02-confirmed');
  await page.goto(verifyLink);
  await submit(page, 'button:has-text("Confirm my address")');
  check((await page.textContent('h1')).includes('Link not valid'), 'the link works only once');

  // Now adding a server goes past the check (to the address check: a documentation address).
  await page.goto(base + '/servers');
  await page.fill('#add-server input[name=address]', '192.0.2.1');
  await submit(page, '#add-submit');
  check(!(await page.textContent('h1')).includes('Confirm your e-mail'),
        'a confirmed volunteer may add servers');

  // Forgot the password: the same answer for an unknown address, one mail for the real one.
  await submit(page, 'button:has-text("Log out")');
  await page.goto(base + '/login');
  await submit(page, 'a:has-text("Forgot your password?")');
  await page.fill('input[name=email]', `nobody-${stamp}@example.org`);
  await submit(page, 'button:has-text("Send the link")');
  const unknownAnswer = (await page.textContent('main')).replace(/\S+@example\.org/, 'X');
  await page.goto(base + '/password/forgot');
  await page.fill('input[name=email]', email);
  await submit(page, 'button:has-text("Send the link")');
  const knownAnswer = (await page.textContent('main')).replace(/\S+@example\.org/, 'X');
  check(unknownAnswer === knownAnswer, 'the answer does not tell whether an account exists');
  await shot(page, 'mail-03-forgot');

  const reset = await waitMail(email, 2, 'reset');
  check(/new password/.test(reset.subject), 'the reset mail arrived');
  const resetLink = linkIn(reset, '/password/reset?token=');
  await page.goto(resetLink);
  await page.fill('input[name=password]', 'the second password');
  await submit(page, 'button:has-text("Set the new password")');
  check((await page.textContent('h1')).includes('Password changed'), 'the new password is set');
  await page.goto(resetLink);
  check((await page.textContent('h1')).includes('Link not valid'), 'the reset link works once');

  await page.goto(base + '/login');
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', 'the first password');
  await submit(page, 'button[type=submit]');
  check(page.url().endsWith('/login'), 'the old password no longer logs in');
  await page.fill('input[name=password]', 'the second password');
  await submit(page, 'button[type=submit]');
  check(page.url().endsWith('/servers'), 'the new password logs in');
  await shot(page, 'mail-04-logged-in');
  check(mailsTo(`nobody-${stamp}@example.org`).length === 0, 'no mail to the unknown address');
  await ctx.close();
}

run(journey);
