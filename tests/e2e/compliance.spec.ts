import { readFileSync } from 'node:fs'
import type { Page } from '@playwright/test'
import { test, expect, loggedIn, apiAs, isPhone, serverClock } from './fixtures'
import { cellCentre } from '@/views/meetings/compliance/heatGrid'

// 组织生活合规 (issue 6) on a PC and a phone (@phone): the party committee's organizer (dangwei)
// sees the summary the API gives and the heat map; on the PC a general branch's row drills into
// that org, a branch's month opens the drawer with its requirements and the meetings held, and
// the 支部工作台账 downloads as a workbook (a zip: PK).

type Cell = { month: string; required: number; held: number; missing: number; due: number }
type Row = { org_id: number; org_name: string; org_kind: string; cells: Cell[] }
type Heatmap = { org_id: number; year: number; months: string[]; rows: Row[] }
type Compliance = { summary: { ok: number; missing: number; due: number; due_soon: number } }

async function noSidewaysScroll(page: Page, what: string) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth)
  expect(width, `${what}: page wider than the screen`).toBeLessThanOrEqual(page.viewportSize()!.width)
}

/**
 * Clicks a cell of the heat map (month index, row index) where shape.ts puts it, once the page
 * shows this heat map (its org loaded, not the previous org's still on screen) and ECharts has
 * drawn it and ended its opening animation (`data-ready`).
 */
async function clickCell(page: Page, hm: Heatmap, month: number, row: number) {
  const section = page.getByTestId('heatmap')
  await expect(section).toHaveAttribute('data-org-id', String(hm.org_id))
  await expect(section).toHaveAttribute('aria-busy', 'false')
  // The chart's element, not a canvas: ECharts draws the heat map on layers of canvases.
  const chart = section.locator('.compliance-chart')
  await expect(chart).toHaveAttribute('data-ready', 'true')
  await chart.scrollIntoViewIfNeeded()
  const box = (await chart.boundingBox())!
  const at = cellCentre(box.width, box.height, hm.months.length, hm.rows.length, month, row, isPhone(page))
  await chart.click({ position: at })
}

test('the compliance page shows the API’s summary and heat map, drills down to a branch-month and downloads the ledger @phone', async ({ page, request, shot }) => {
  const api = await apiAs(request, 'dangwei')
  // The institution's year and day, as the page takes them.
  const { year, today } = await serverClock(request)
  const root = await api.get<Heatmap>(`/meetings/heatmap?year=${year}`)
  expect(root.rows.length).toBeGreaterThan(0)
  const sum = await api.get<Compliance>(`/meetings/compliance?org_id=${root.org_id}&from=${year}-01-01&to=${today}&page_size=1`)
  // The demo institution has meetings and some of them missed (demo.rs).
  expect(sum.summary.ok).toBeGreaterThan(0)

  await loggedIn(page, 'dangwei')
  await page.goto('/meetings/compliance')
  await expect(page.getByTestId('sum-ok').getByTestId('sum-value')).toHaveText(String(sum.summary.ok))
  await expect(page.getByTestId('sum-missing').getByTestId('sum-value')).toHaveText(String(sum.summary.missing))
  await expect(page.getByTestId('sum-due').getByTestId('sum-value')).toHaveText(String(sum.summary.due))
  await expect(page.getByTestId('heatmap').locator('canvas').first()).toBeVisible()
  await expect(page.getByTestId('compliance-issues')).toBeVisible()
  await expect(page.getByTestId('attendance')).toBeVisible()
  await page.waitForLoadState('networkidle')
  await noSidewaysScroll(page, 'compliance')
  await shot('compliance')

  if (isPhone(page)) {
    // The per-org list instead of the grid.
    await page.getByTestId('heatmap-switch').click()
    await expect(page.getByTestId('heatmap-list')).toContainText(root.rows[0]!.org_name)
    await noSidewaysScroll(page, 'compliance list')
    await shot('compliance-list')
    // A branch's entry opens its latest month's records.
    const b = root.rows.find((r) => r.org_kind === 'branch')
    if (b) {
      await page.getByTestId('heatmap-list').getByText(b.org_name, { exact: true }).click()
      await expect(page.getByTestId('branch-month')).toContainText(b.org_name)
      await shot('compliance-list-branch')
    }
    return
  }

  // A general branch's row opens its own heat map (the breadcrumb leads back).
  const gi = root.rows.findIndex((r) => r.org_kind === 'general_branch' || r.org_kind === 'committee')
  expect(gi, 'a general branch under the root').toBeGreaterThanOrEqual(0)
  const general = root.rows[gi]!
  await clickCell(page, root, 0, gi)
  await expect(page).toHaveURL(new RegExp(`org_id=${general.org_id}`))
  await expect(page.getByTestId('heatmap-crumbs')).toContainText(general.org_name)
  await expect(page.getByTestId('org-picker')).toContainText(general.org_name)
  const sub = await api.get<Heatmap>(`/meetings/heatmap?org_id=${general.org_id}&year=${year}`)

  // A branch's month with meetings held opens the drawer with that month's records.
  let bi = -1
  let mi = -1
  sub.rows.forEach((r, i) => {
    if (bi >= 0 || r.org_kind !== 'branch') return
    const m = r.cells.findIndex((c) => c.held > 0)
    if (m >= 0) [bi, mi] = [i, m]
  })
  expect(bi, 'a branch with meetings held').toBeGreaterThanOrEqual(0)
  const branch = sub.rows[bi]!
  const month = sub.months[mi]!
  await clickCell(page, sub, mi, bi)
  const drawer = page.getByTestId('branch-month')
  await expect(drawer).toBeVisible()
  await expect(drawer).toContainText(`${branch.org_name} · ${month}`)
  await expect(drawer.getByTestId('branch-month-items').locator('li').first()).toBeVisible()
  await expect(drawer.getByTestId('branch-month-meetings').locator('a[href^="/meetings/"]').first()).toBeVisible()
  await shot('compliance-branch-month')
  await page.keyboard.press('Escape')
  await expect(drawer).toBeHidden()

  // The ledger of the org shown, as a workbook.
  await page.getByTestId('compliance-bar').getByTestId('ledger-button').click()
  // (The drawer has its own button and dialog for the branch.)
  const dialog = page.getByTestId('ledger-dialog').filter({ visible: true })
  await expect(dialog).toBeVisible()
  const download = page.waitForEvent('download')
  await dialog.getByTestId('ledger-start').click()
  const file = await download
  expect(file.suggestedFilename()).toMatch(new RegExp(`^支部工作台账-.*${year}\\.xlsx$`))
  const bytes = readFileSync((await file.path())!)
  expect(bytes.subarray(0, 2).toString('latin1')).toBe('PK')
  await expect(dialog.getByTestId('ledger-done')).toBeVisible()
  await shot('compliance-ledger')
  await dialog.getByTestId('ledger-close').click()

  // Back up the breadcrumb to the root.
  await page.getByTestId('heatmap-crumbs').locator('a').first().click()
  await expect(page).not.toHaveURL(new RegExp(`org_id=${general.org_id}`))
})

type Rules = { org_id: number; has_committee: { value: boolean; full_members: number }; rules: { kind: string; name: string; source: string }[] }
type Officer = { person_id: number; name: string; post: string }
type SubtreeOrg = { id: number; name: string; kind: string }

test('组织生活设置 shows a branch’s effective rules with their source and its officers (read only here) @phone', async ({ page, request, shot }) => {
  const api = await apiAs(request, 'dangwei')
  const orgs = await api.get<{ items: SubtreeOrg[] }>('/orgs/1/subtree?max_depth=3&page_size=200')
  const branch = orgs.items.find((o) => o.kind === 'branch')!
  const rules = await api.get<Rules>(`/orgs/${branch.id}/meeting-rules`)
  const officers = await api.get<Officer[]>(`/orgs/${branch.id}/officers`)
  expect(rules.rules.length).toBeGreaterThan(0)

  await loggedIn(page, 'dangwei')
  await page.goto(`/meetings/settings?org_id=${branch.id}&tab=rules`)
  await expect(page.getByTestId('org-picker')).toContainText(branch.name)
  for (const r of rules.rules) await expect(page.getByTestId(`rule-${r.kind}`)).toContainText(r.name)
  await expect(page.getByTestId('has-committee')).toContainText(`正式党员 ${rules.has_committee.full_members} 人`)
  await noSidewaysScroll(page, 'rules')
  await shot('settings-rules')

  await page.getByTestId('settings-tabs').getByText('支部委员', { exact: true }).click()
  await expect(page).toHaveURL(/tab=officers/)
  for (const [i, o] of officers.entries()) await expect(page.getByTestId(`officer-${i}`)).toContainText(o.name)
  await noSidewaysScroll(page, 'officers')
  await shot('settings-officers')
})
