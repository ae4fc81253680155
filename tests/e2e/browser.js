// What every browser test shares: Debian's headless Chromium as playwright-core drives it, a
// check that logs what passed, full-page screenshots into $SHOTS, and the script's frame.
const { chromium } = require('playwright-core');
const path = require('path');

function launch() {
  return chromium.launch({
    executablePath: '/usr/lib/chromium/chromium',
    chromiumSandbox: false,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--no-first-run'],
  });
}

function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
  console.log('ok - ' + what);
}

// Where the screenshot `name` goes.
function shotFile(name) {
  return path.join(process.env.SHOTS, name + '.png');
}

async function shot(page, name) {
  await page.screenshot({ path: shotFile(name), fullPage: true });
}

// Runs `steps(browser)` in a fresh browser and exits 1 if anything threw, 0 otherwise.
function run(steps) {
  (async () => {
    const browser = await launch();
    let failed = false;
    try {
      await steps(browser);
    } catch (e) {
      console.error(e);
      failed = true;
    } finally {
      await browser.close();
    }
    process.exit(failed ? 1 : 0);
  })();
}

module.exports = { launch, check, shot, shotFile, run };
