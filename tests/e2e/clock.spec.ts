import { test, expect, PASSWORD, serverClock } from './fixtures'

// The institution's day, not the browser's (issue 13): a browser in a time zone whose date is not
// the institution's right now (a day behind or a day ahead) still gets the server's today as the
// dashboard's date, loads its figures (a date "in the future" would be refused: 统计加载失败) and
// shows the institution's date on the workbench.

/** The calendar date of an instant in a time zone. */
const dateIn = (t: number, timeZone: string) => new Date(t).toLocaleDateString('sv-SE', { timeZone })

test('a browser in another time zone takes today from the server: the dashboard loads as of the institution’s date', async ({ browser, request, baseURL }) => {
  const clock = await serverClock(request)
  const serverNow = Date.parse(clock.now)
  expect(dateIn(serverNow, clock.time_zone)).toBe(clock.today)
  // A zone whose date differs from the institution's now and for the next ten minutes, at any
  // hour: twelve hours behind UTC or fourteen ahead (Beijing is eight ahead).
  const zones = ['Etc/GMT+12', 'Pacific/Kiritimati', 'America/Los_Angeles']
  const zone = zones.find((z) => [0, 600_000].every((d) => dateIn(Date.now() + d, z) !== dateIn(serverNow + d, clock.time_zone)))
  expect(zone, 'a time zone whose date is not the institution’s').toBeDefined()
  const browserToday = dateIn(Date.now(), zone!)

  const context = await browser.newContext({ baseURL, locale: 'zh-CN', timezoneId: zone, viewport: { width: 1366, height: 768 } })
  const page = await context.newPage()
  // (the browser's own date really is another day)
  expect(await page.evaluate(() => new Date().toLocaleDateString('sv-SE'))).toBe(browserToday)
  const asked: string[] = []
  page.on('request', (r) => {
    if (r.url().includes('/api/v1/stats/')) asked.push(r.url())
  })

  await page.goto('/login')
  await page.locator('input[name=username]').fill('dangwei')
  await page.locator('input[name=password]').fill(PASSWORD)
  await page.getByTestId('login-submit').click()
  await expect(page).toHaveURL(/\/workbench$/)
  const [y, m, d] = clock.today.split('-').map(Number)
  await expect(page.getByText(`今天是 ${y}年${m}月${d}日`)).toBeVisible()

  await page.goto('/dashboard')
  await expect(page.getByTestId('stat-total').getByTestId('stat-value')).toHaveText(/^\d+$/)
  await expect(page.getByRole('combobox', { name: '统计日期' })).toHaveValue(clock.today)
  await expect(page.getByTestId('dashboard-error')).toHaveCount(0)
  await expect(page.getByText('统计加载失败')).toHaveCount(0)
  // No request asked for the browser's date.
  expect(asked.length).toBeGreaterThan(0)
  for (const u of asked) expect(new URL(u).searchParams.get('as_of') ?? clock.today, u).toBe(clock.today)
  await context.close()
})
