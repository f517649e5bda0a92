import { readFileSync } from 'node:fs'
import type { Page } from '@playwright/test'
import { test, expect, loggedIn, apiAs, isPhone } from './fixtures'

// 数据看板 and 统计报表 (issue 5) on a PC (1366×768) and a phone (390×844, @phone): the headline
// figure is the API's, the charts draw, a slice opens the member list behind it, and the report
// shows its tables and downloads as a workbook.

type Bucket = { key: string; label: string; count: number; filter: Record<string, unknown> | null }
type Structure = { org_id: number; total: number; dimensions: Record<string, Bucket[]> }

async function fitViewport(page: Page) {
  await page.setViewportSize(isPhone(page) ? { width: 390, height: 844 } : { width: 1366, height: 768 })
}

async function noSidewaysScroll(page: Page, what: string) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth)
  expect(width, `${what}: page wider than the screen`).toBeLessThanOrEqual(page.viewportSize()!.width)
}

/** A panel's chart once ECharts has drawn its current data and ended the opening animation. */
async function drawnChart(page: Page, panel: string) {
  const chart = page.getByTestId(panel).locator('.stats-chart')
  await expect(chart, panel).toHaveAttribute('data-ready', 'true')
  return chart.locator('canvas').first()
}

/** Clicks the middle of the first slice of a ring drawn by bucketOption (center 50% 44%, radius 40-66%). */
async function clickFirstSlice(page: Page, panel: string, buckets: Bucket[]) {
  const canvas = await drawnChart(page, panel)
  await canvas.scrollIntoViewIfNeeded()
  const box = (await canvas.boundingBox())!
  const total = buckets.reduce((s, b) => s + b.count, 0)
  const mid = ((buckets[0]!.count / total) * Math.PI * 2) / 2 // pies start at 12 o'clock, clockwise
  const r = (0.53 * Math.min(box.width, box.height)) / 2
  await canvas.click({ position: { x: box.width / 2 + r * Math.sin(mid), y: box.height * 0.44 - r * Math.cos(mid) } })
}

test('the dashboard shows the API’s figures, draws the charts and drills down; the report generates and downloads @phone', async ({ page, request, shot }) => {
  await fitViewport(page)
  const api = await apiAs(request, 'dangwei')
  const s = await api.get<Structure>('/stats/structure')
  expect(s.total).toBeGreaterThan(0)

  await loggedIn(page, 'dangwei')
  await page.goto('/dashboard')
  await expect(page.getByTestId('stat-total').getByTestId('stat-value')).toHaveText(String(s.total))
  for (const chart of ['chart-gender', 'chart-age_band', 'chart-education', 'chart-trend', 'treemap']) {
    await expect(page.getByTestId(chart).locator('canvas').first(), chart).toBeVisible()
  }
  await expect(page.getByTestId('reminders')).toBeVisible()
  await page.waitForLoadState('networkidle')
  await noSidewaysScroll(page, 'dashboard')
  await shot('dashboard')

  // A tile of the treemap (the largest lies top left) re-centres the dashboard on that org. On
  // the PC only: on a phone the canvas scrolls under the panels above it while Playwright aims,
  // and the point it picks can land on the 发展党员 panel (seen in CI once other specs had added
  // 12,000 members to one tile); the phone keeps the root for the steps below.
  let sub = s.org_id
  let c: Structure & { org_name: string } = s as Structure & { org_name: string }
  if (test.info().project.name !== 'phone') {
    // (Until the tiles' opening animation ends a click may land on the series root, which does nothing.)
    const tiles = await drawnChart(page, 'treemap')
    await tiles.scrollIntoViewIfNeeded()
    const box = (await tiles.boundingBox())!
    await tiles.click({ position: { x: box.width * 0.15, y: box.height * 0.3 } })
    await expect(page).toHaveURL(/\/dashboard\?org_id=\d+/)
    sub = Number(new URL(page.url()).searchParams.get('org_id'))
    expect(sub).not.toBe(s.org_id)
    c = await api.get<Structure & { org_name: string }>(`/stats/structure?org_id=${sub}`)
    await expect(page.getByTestId('org-picker')).toContainText(c.org_name)
    await expect(page.getByTestId('stat-total').getByTestId('stat-value')).toHaveText(String(c.total))
    await shot('dashboard-suborg')
  }

  // A slice of the gender ring opens today's list of those members.
  const first = c.dimensions.gender!.filter((b) => b.count > 0)[0]!
  expect(first.filter).not.toBeNull()
  await clickFirstSlice(page, 'chart-gender', c.dimensions.gender!)
  await expect(page).toHaveURL(new RegExp(`/members\\?.*gender=${String(first.filter!.gender)}`))
  await expect(page).toHaveURL(new RegExp(`org_id=${sub}(&|$)`))
  await expect(page.getByTestId('member-total')).toContainText(String(first.count))
  await shot('dashboard-drilldown')

  // 统计报表: generate, see the tables, download the workbook.
  await page.goto('/reports/party-statistics')
  await page.getByTestId('report-generate').click()
  await expect(page.getByTestId('report-head')).toBeVisible()
  // A table on a PC; on a phone each row is a card of column title and value.
  const rows = isPhone(page) ? '.rcard' : 'table'
  await expect(page.getByTestId('report-table-totals').locator(rows).first()).toBeVisible()
  expect(await page.locator(`[data-testid^=report-table-] ${rows}`).count()).toBeGreaterThan(1)
  await noSidewaysScroll(page, 'report')
  await shot('report')

  const download = page.waitForEvent('download')
  await page.getByTestId('report-download').click()
  const file = await download
  expect(file.suggestedFilename()).toMatch(/\.xlsx$/)
  const bytes = readFileSync((await file.path())!)
  expect(bytes.subarray(0, 2).toString()).toBe('PK') // a zip: the workbook
})
