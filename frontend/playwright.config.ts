import { defineConfig, devices } from '@playwright/test'

// Browser tests against the real backend (scripts/e2e.sh starts it with demo data on a fresh
// database and sets E2E_BASE_URL). Debian's chromium, no downloaded browsers (none can be fetched on an intranet).
// The specs are in tests/e2e/; they find @playwright/test (in frontend/node_modules) and the app's
// helpers (`@/…`) through the path mapping of tests/e2e/tsconfig.json, which Playwright reads.
const baseURL = process.env.E2E_BASE_URL ?? 'http://127.0.0.1:8080'
const ARTIFACTS = '../tests/e2e/artifacts'

const launchOptions = {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
}

export default defineConfig({
  testDir: '../tests/e2e',
  outputDir: `${ARTIFACTS}/test-results`,
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['html', { outputFolder: `${ARTIFACTS}/report`, open: 'never' }]],
  use: {
    baseURL,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    launchOptions,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    { name: 'desktop', use: { browserName: 'chromium', viewport: { width: 1440, height: 900 } } },
    {
      name: 'phone',
      use: { browserName: 'chromium', viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, userAgent: devices['iPhone 13'].userAgent },
      grep: /@phone/,
    },
  ],
})
