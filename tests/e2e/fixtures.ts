import { join } from 'node:path'
import { test as base, expect, type Page, type APIRequestContext } from '@playwright/test'

export const PASSWORD = 'Demo-2026'
/** Screenshots (git-ignored). The specs are CommonJS (no package.json here): __dirname is this folder. */
export const ARTIFACTS = join(__dirname, 'artifacts')

type Fixtures = {
  /** Every request the page made; each test ends by checking that none left 127.0.0.1. */
  requests: string[]
  shot: (name: string) => Promise<void>
}

export const test = base.extend<Fixtures>({
  requests: [
    async ({ page }, use) => {
      const seen: string[] = []
      page.on('request', (r) => seen.push(r.url()))
      await use(seen)
      const outside = seen.filter((u) => {
        if (u.startsWith('data:') || u.startsWith('blob:')) return false
        return new URL(u).hostname !== '127.0.0.1'
      })
      expect(outside, 'requests that left 127.0.0.1').toEqual([])
    },
    { auto: true },
  ],
  shot: async ({ page }, use, info) => {
    await use(async (name: string) => {
      // CSS transitions and animations run to their end first (no fixed wait); canvases as drawn.
      await page.screenshot({ path: `${ARTIFACTS}/${info.project.name}-${name}.png`, fullPage: true, animations: 'disabled' })
    })
  },
})
export { expect }

export function isPhone(page: Page): boolean {
  return (page.viewportSize()?.width ?? 1000) < 768
}

export async function login(page: Page, username: string, password = PASSWORD) {
  await page.goto('/login')
  await page.locator('input[name=username]').fill(username)
  await page.locator('input[name=password]').fill(password)
  await page.getByTestId('login-submit').click()
}

export async function loggedIn(page: Page, username: string) {
  await login(page, username)
  await expect(page).toHaveURL(/\/workbench$/)
}

/** The API as one of the demo logins, for test set-up (which member lives where). */
export async function apiAs(request: APIRequestContext, username: string) {
  const r = await request.post('/api/v1/auth/login', { data: { username, password: PASSWORD } })
  expect(r.ok()).toBeTruthy()
  const { access_token } = (await r.json()) as { access_token: string }
  const headers = { Authorization: `Bearer ${access_token}` }
  return {
    async get<T>(path: string): Promise<T> {
      const res = await request.get(`/api/v1${path}`, { headers })
      expect(res.ok(), `GET ${path}: ${res.status()}`).toBeTruthy()
      return (await res.json()) as T
    },
  }
}

export type ClockInfo = { now: string; today: string; time_zone: string }

/** The institution's clock as the server tells it (GET /api/v1/clock, public): its today and year, whatever this machine's zone. */
export async function serverClock(request: APIRequestContext): Promise<ClockInfo & { year: number }> {
  const r = await request.get('/api/v1/clock')
  expect(r.ok(), `GET /api/v1/clock: ${r.status()}`).toBeTruthy()
  const c = (await r.json()) as ClockInfo
  return { ...c, year: Number(c.today.slice(0, 4)) }
}

/** Picks an org in the tree on the left (in a drawer on a phone), by searching its name. */
export async function pickOrg(page: Page, name: string) {
  if (isPhone(page)) await page.getByTestId('open-org-tree').click()
  const scope = isPhone(page) ? page.locator('.tree-drawer') : page.locator('aside.side')
  await scope.getByTestId('org-search').fill(name)
  await scope.getByTestId('org-search-results').getByText(name, { exact: true }).click()
}

/** Opens the side menu (a drawer on a phone) and follows an item. */
export async function menu(page: Page, item: string) {
  if (isPhone(page)) {
    await page.getByTestId('menu-toggle').click()
    await page.locator('.menu-drawer').getByText(item, { exact: true }).click()
  } else {
    await page.locator('.sidebar').getByText(item, { exact: true }).click()
  }
}
