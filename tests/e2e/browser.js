// Debian's headless Chromium as every browser test launches it (playwright-core drives it).
const { chromium } = require('playwright-core');

function launch() {
  return chromium.launch({
    executablePath: '/usr/lib/chromium/chromium',
    chromiumSandbox: false,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--no-first-run'],
  });
}

module.exports = { launch };
