import { describe, expect, it } from 'vitest'
import type { ComplianceItem, Heatmap, HeatmapRow, OrgAttendance } from './api'
import {
  attendanceBarOption,
  cellCentre,
  cellScore,
  filterIssues,
  heatPoints,
  heatmapOption,
  isDueSoon,
  latestMonth,
  monthLabel,
  monthRange,
  rateText,
  rowAction,
  rowTotals,
  sortIssues,
  sortStreaks,
  splitByMonth,
  yearRange,
  SCORE_PIECES,
  type HeatPoint,
} from './shape'
import { t } from '@/locales'

const MONTHS = ['2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06', '2026-07', '2026-08', '2026-09', '2026-10', '2026-11', '2026-12']

function row(org_id: number, org_name: string, org_kind: string, cells: Partial<Record<string, [number, number, number, number]>>): HeatmapRow {
  return {
    org_id,
    org_name,
    org_kind,
    branches: org_kind === 'branch' ? 1 : 2,
    cells: MONTHS.map((month) => {
      const [required, held, missing, due] = cells[month] ?? [0, 0, 0, 0]
      return { month, required, held, missing, due }
    }),
  } as unknown as HeatmapRow
}

function item(p: Partial<ComplianceItem> & Pick<ComplianceItem, 'period_start' | 'period_end'>): ComplianceItem {
  return { org_id: 1, org_name: '第一支部', kind: 'branch_committee_meeting', period: '2026-03', required: 1, held: 0, state: 'missing', days_left: null, ...p } as ComplianceItem
}

describe('periods', () => {
  it('gives a month its first and last day, leap years included', () => {
    expect(monthRange('2026-03')).toEqual({ from: '2026-03-01', to: '2026-03-31' })
    expect(monthRange('2026-02')).toEqual({ from: '2026-02-01', to: '2026-02-28' })
    expect(monthRange('2028-02')).toEqual({ from: '2028-02-01', to: '2028-02-29' })
    expect(monthRange('2026-12')).toEqual({ from: '2026-12-01', to: '2026-12-31' })
    expect(monthLabel('2026-03')).toBe('3月')
  })

  it('analyses a past year to its end and the running year to today', () => {
    expect(yearRange(2025, '2026-11-30')).toEqual({ from: '2025-01-01', to: '2025-12-31' })
    expect(yearRange(2026, '2026-11-30')).toEqual({ from: '2026-01-01', to: '2026-11-30' })
  })

  it('splits a branch-month into the periods ending in it and the longer ones running through it', () => {
    const march = item({ period: '2026-03', period_start: '2026-03-01', period_end: '2026-03-31' })
    const q1 = item({ kind: 'party_lecture', period: '2026-Q1', period_start: '2026-01-01', period_end: '2026-03-31', state: 'ok', held: 1 })
    const h1 = item({ kind: 'org_life_meeting', period: '2026-H1', period_start: '2026-01-01', period_end: '2026-06-30', state: 'ok', held: 1 })
    const feb = item({ period: '2026-02', period_start: '2026-02-01', period_end: '2026-02-28', state: 'ok', held: 1 })
    const y = item({ kind: 'democratic_appraisal', period: '2026', period_start: '2026-01-01', period_end: '2026-12-31', state: 'due', days_left: 30 })
    const s = splitByMonth([march, q1, h1, feb, y], '2026-03')
    expect(s.ending).toEqual([march, q1])
    expect(s.spanning).toEqual([h1, y])
  })
})

describe('heat map', () => {
  it('scores a cell: nothing owed, running, all held, or the number missing', () => {
    expect(cellScore({ required: 0, missing: 0, due: 0 })).toBe(-2)
    expect(cellScore({ required: 2, missing: 0, due: 1 })).toBe(-1)
    expect(cellScore({ required: 3, missing: 0, due: 0 })).toBe(0)
    expect(cellScore({ required: 3, missing: 2, due: 1 })).toBe(2)
  })

  it('colours every score by exactly one legend piece', () => {
    type Piece = { value?: number; gte?: number; lte?: number }
    const within = (p: Piece, v: number) => (p.value !== undefined ? p.value === v : (p.gte === undefined || v >= p.gte) && (p.lte === undefined || v <= p.lte))
    for (const v of [-2, -1, 0, 1, 2, 3, 4, 5, 12, 40]) expect(SCORE_PIECES.filter((p) => within(p as Piece, v)), `score ${v}`).toHaveLength(1)
  })

  // A branch that held every 支委会 but March's: one missing in March, nothing else red.
  const hm = {
    org_id: 10,
    year: 2026,
    months: MONTHS,
    rows: [
      row(11, '第一党总支', 'general_branch', { '2026-03': [6, 4, 2, 0], '2026-04': [3, 3, 0, 0] }),
      row(12, '第二支部', 'branch', { '2026-03': [3, 2, 1, 0], '2026-11': [1, 0, 0, 1] }),
    ],
  } as unknown as Heatmap

  it('gives one point per row and month, the rows in the API order', () => {
    const pts = heatPoints(hm)
    expect(pts).toHaveLength(24)
    expect(pts.filter((p) => p[2] > 0)).toEqual([
      [2, 0, 2, 2],
      [2, 1, 1, 1],
    ])
    expect(pts.find((p) => p[0] === 3 && p[1] === 0)).toEqual([3, 0, 0, 0])
    expect(pts.find((p) => p[0] === 10 && p[1] === 1)).toEqual([10, 1, -1, 0])
    expect(pts.find((p) => p[0] === 0 && p[1] === 1)).toEqual([0, 1, -2, 0])
  })

  it('builds an option with the months as columns, the orgs as rows and the legend pieces', () => {
    const o = heatmapOption(hm, { legend: t.compliance.legend, tip: t.compliance.cellTip })
    expect((o.xAxis as { data: string[] }).data[0]).toBe('1月')
    expect((o.yAxis as { data: string[] }).data).toEqual(['第一党总支', '第二支部'])
    const pieces = (o.visualMap as { pieces: { label: string }[] }).pieces
    expect(pieces.map((p) => p.label)).toEqual(['无要求', '进行中', '已完成', '缺 1 次', '缺 2-3 次', '缺 4 次及以上'])
    const s = (o.series as { data: HeatPoint[]; label: { formatter: (p: { data: HeatPoint }) => string } }[])[0]!
    expect(s.label.formatter({ data: [2, 0, 2, 2] })).toBe('2')
    expect(s.label.formatter({ data: [3, 0, 0, 0] })).toBe('')
    const tip = (o.tooltip as { formatter: (p: { data: HeatPoint }) => string }).formatter({ data: [2, 1, 1, 1] })
    expect(tip).toContain('第二支部')
    expect(tip).toContain('应开 3 次，已开 2 次，缺 1 次')
  })

  it('places cells from the canvas size alone', () => {
    expect(cellCentre(1010, 268, 12, 2, 0, 0)).toEqual({ x: 210 + 33, y: 8 + 50 })
    expect(cellCentre(1010, 268, 12, 2, 11, 1)).toEqual({ x: 210 + 11.5 * 66, y: 8 + 150 })
    expect(cellCentre(700, 268, 12, 2, 0, 0, true).x).toBe(92 + 0.5 * ((700 - 100) / 12))
  })

  it('drills into orgs with orgs below and opens the records of a branch', () => {
    expect(rowAction(hm, hm.rows[0]!)).toBe('drill')
    expect(rowAction(hm, hm.rows[1]!)).toBe('records')
    // The heat map of a branch has the branch itself as its row.
    expect(rowAction({ org_id: 12 }, hm.rows[1]!)).toBe('records')
    expect(rowAction({ org_id: 11 }, { org_id: 11, org_kind: 'general_branch' } as HeatmapRow)).toBe('records')
  })

  it('opens a branch of the phone list at its last month that owed anything', () => {
    expect(latestMonth(hm.rows[1]!)).toBe('2026-11')
    expect(latestMonth(row(13, '空支部', 'branch', {}))).toBe('2026-12')
  })

  it('sums a row over the year', () => {
    expect(rowTotals(hm.rows[1]!)).toEqual({ required: 4, held: 2, missing: 1, due: 1 })
  })
})

describe('missing and due items', () => {
  const a = item({ org_name: '乙支部', period: '2026-02', period_start: '2026-02-01', period_end: '2026-02-28' })
  const b = item({ org_name: '甲支部', period: '2026-Q1', kind: 'party_lecture', period_start: '2026-01-01', period_end: '2026-03-31' })
  const c = item({ org_name: '甲支部', period: '2026-11', state: 'due', days_left: 20, period_start: '2026-11-01', period_end: '2026-11-30' })
  const d = item({ org_name: '乙支部', period: '2026-Q4', kind: 'party_lecture', state: 'due', days_left: 3, period_start: '2026-10-01', period_end: '2026-12-31' })
  const ok = item({ period: '2026-01', state: 'ok', held: 1, period_start: '2026-01-01', period_end: '2026-01-31' })

  it('lists the overdue first (oldest first), then the due by days left', () => {
    expect(sortIssues([c, ok, d, b, a])).toEqual([a, b, d, c, ok])
  })

  it('filters by state (due soon = due within 7 days) and kind', () => {
    const all = [a, b, c, d, ok]
    expect(filterIssues(all, '', '')).toEqual([a, b, c, d])
    expect(filterIssues(all, 'missing', '')).toEqual([a, b])
    expect(filterIssues(all, 'due', '')).toEqual([c, d])
    expect(filterIssues(all, 'due_soon', '')).toEqual([d])
    expect(filterIssues(all, '', 'party_lecture')).toEqual([b, d])
    expect(isDueSoon(d)).toBe(true)
    expect(isDueSoon(c)).toBe(false)
  })
})

describe('attendance', () => {
  it('shows rates as percentages', () => {
    expect(rateText(0.8333)).toBe('83.3%')
    expect(rateText(1)).toBe('100.0%')
    expect(rateText(null)).toBe('—')
  })

  it('draws the lowest branches as bars in percent, skipping those without meetings', () => {
    const byOrg = [
      { org_id: 1, org_name: '甲支部', meetings: 4, due: 40, present: 20, absent: 20, rate: 0.5 },
      { org_id: 2, org_name: '乙支部', meetings: 0, due: 0, present: 0, absent: 0, rate: null },
      { org_id: 3, org_name: '丙支部', meetings: 4, due: 40, present: 30, absent: 10, rate: 0.75 },
    ] as unknown as OrgAttendance[]
    const o = attendanceBarOption(byOrg)
    expect((o.yAxis as { data: string[] }).data).toEqual(['甲支部', '丙支部'])
    expect((o.series as { data: number[] }[])[0]!.data).toEqual([50, 75])
  })

  it('orders the absence streaks longest first', () => {
    const s = sortStreaks([
      { name: '乙', streak: 3 },
      { name: '甲', streak: 5 },
      { name: '丙', streak: 3 },
    ])
    expect(s.map((x) => x.name)).toEqual(['甲', '丙', '乙'])
  })
})
