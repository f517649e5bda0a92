// Data shaping of 组织生活合规: the heat map's cells and option, a month's date range, which
// requirements fall in a branch-month, the order of the missing/due list, attendance rates. Pure
// functions, unit-tested (shape.test.ts).
import type { AbsentStreak, ComplianceItem, Heatmap, HeatmapCell, HeatmapRow, OrgAttendance } from './api'
import { HEAT_GRID } from './heatGrid'

export { HEAT_GRID, cellCentre } from './heatGrid'

/** `YYYY-MM` → its first and last day (`YYYY-MM-DD`). */
export function monthRange(month: string): { from: string; to: string } {
  const [y, m] = month.split('-').map(Number) as [number, number]
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate()
  const mm = String(m).padStart(2, '0')
  return { from: `${y}-${mm}-01`, to: `${y}-${mm}-${String(last).padStart(2, '0')}` }
}

/** The analysed range of a year: 1 January to 31 December, or to today in the running year. */
export function yearRange(year: number, today: string): { from: string; to: string } {
  const end = `${year}-12-31`
  return { from: `${year}-01-01`, to: today < end && today.startsWith(String(year)) ? today : end }
}

/** `2026-03` → `3月`. */
export function monthLabel(month: string): string {
  return `${Number(month.slice(5, 7))}月`
}

/**
 * A cell's colour class, as the number the visual map reads: -2 nothing owed that month, -1 only
 * periods still running, 0 everything held, n > 0 the meetings missing.
 */
export function cellScore(c: Pick<HeatmapCell, 'required' | 'missing' | 'due'>): number {
  if (c.missing > 0) return c.missing
  if (c.due > 0) return -1
  if (c.required > 0) return 0
  return -2
}

export const SCORE_PIECES = [
  { value: -2, key: 'none', color: '#f2f3f5' },
  { value: -1, key: 'due', color: '#f7d08a' },
  { value: 0, key: 'ok', color: '#85c46a' },
  // Closed bounds spelt out: ECharts reads a lone `min` as an open bound, which left 4 uncoloured.
  { gte: 1, lte: 1, key: 'missing1', color: '#f3a3a3' },
  { gte: 2, lte: 3, key: 'missing2', color: '#e0585d' },
  { gte: 4, key: 'missing4', color: '#a8071a' },
] as const

/**
 * What clicking a row means: an org with orgs below it opens its own heat map; a branch (or the
 * branch the heat map is of, or a party group) opens the branch-month's records.
 */
export function rowAction(hm: Pick<Heatmap, 'org_id'>, row: Pick<HeatmapRow, 'org_id' | 'org_kind'>): 'drill' | 'records' {
  if (row.org_id === hm.org_id) return 'records'
  return row.org_kind === 'committee' || row.org_kind === 'general_branch' ? 'drill' : 'records'
}

export interface HeatmapLabels {
  legend: Record<(typeof SCORE_PIECES)[number]['key'], string>
  tip: (org: string, month: string, required: number, held: number, missing: number, due: number) => string
}

/** Item of the series: [month index, row index, score, missing]. */
export type HeatPoint = [number, number, number, number]

export function heatPoints(hm: Pick<Heatmap, 'months' | 'rows'>): HeatPoint[] {
  const out: HeatPoint[] = []
  hm.rows.forEach((r, y) => {
    const byMonth = new Map(r.cells.map((c) => [c.month, c]))
    hm.months.forEach((m, x) => {
      const c = byMonth.get(m)
      out.push([x, y, c ? cellScore(c) : -2, c?.missing ?? 0])
    })
  })
  return out
}

/** Height that gives every row a readable strip. */
export function heatmapHeight(rows: number, compact = false): number {
  return Math.max(160, rows * (compact ? 34 : 32) + HEAT_GRID.top + HEAT_GRID.bottom + 8)
}

/** The heat map (rows = orgs, columns = months): colour by missing meetings, the count on the cell. */
export function heatmapOption(hm: Pick<Heatmap, 'months' | 'rows'>, labels: HeatmapLabels, opts: { compact?: boolean } = {}): Record<string, unknown> {
  const rows = hm.rows
  const pieces = SCORE_PIECES.map(({ key, ...p }) => ({ ...p, label: labels.legend[key] }))
  return {
    tooltip: {
      position: 'top',
      formatter: (p: { data?: HeatPoint }) => {
        const d = p.data
        if (!d) return ''
        const row = rows[d[1]]
        const month = hm.months[d[0]] ?? ''
        const cell = row?.cells.find((c) => c.month === month)
        return labels.tip(row?.org_name ?? '', month, cell?.required ?? 0, cell?.held ?? 0, cell?.missing ?? 0, cell?.due ?? 0)
      },
    },
    grid: { left: opts.compact ? HEAT_GRID.leftCompact : HEAT_GRID.left, right: HEAT_GRID.right, top: HEAT_GRID.top, bottom: HEAT_GRID.bottom },
    xAxis: { type: 'category', data: hm.months.map(monthLabel), splitArea: { show: true }, axisTick: { show: false } },
    yAxis: {
      type: 'category',
      inverse: true,
      data: rows.map((r) => r.org_name),
      triggerEvent: true,
      axisTick: { show: false },
      axisLabel: opts.compact ? { width: HEAT_GRID.leftCompact - 12, overflow: 'truncate', fontSize: 11 } : { width: HEAT_GRID.left - 12, overflow: 'truncate' },
    },
    visualMap: {
      type: 'piecewise',
      dimension: 2,
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      itemWidth: 14,
      itemHeight: 10,
      textStyle: { fontSize: opts.compact ? 10 : 12 },
      pieces,
    },
    series: [
      {
        type: 'heatmap',
        data: heatPoints(hm),
        label: { show: true, formatter: (p: { data: HeatPoint }) => (p.data[3] > 0 ? String(p.data[3]) : ''), color: '#fff', fontWeight: 'bold' },
        itemStyle: { borderColor: '#fff', borderWidth: 2 },
        emphasis: { itemStyle: { shadowBlur: 6, shadowColor: 'rgba(0, 0, 0, 0.3)' } },
        cursor: 'pointer',
      },
    ],
  }
}

/** The month a branch's entry in the phone's list opens: the last one that owed anything, else the last. */
export function latestMonth(row: Pick<HeatmapRow, 'cells'>): string | null {
  const owed = row.cells.filter((c) => c.required > 0)
  return (owed.at(-1) ?? row.cells.at(-1))?.month ?? null
}

/** Totals of a row over the year, for the phone's per-org list. */
export function rowTotals(row: Pick<HeatmapRow, 'cells'>): { required: number; held: number; missing: number; due: number } {
  return row.cells.reduce((s, c) => ({ required: s.required + c.required, held: s.held + c.held, missing: s.missing + c.missing, due: s.due + c.due }), { required: 0, held: 0, missing: 0, due: 0 })
}

/**
 * A branch-month's requirements: those whose period ends in the month (what the heat map's cell
 * counts) and the longer periods that only run through it (a quarter's first months).
 */
export function splitByMonth<T extends Pick<ComplianceItem, 'period_start' | 'period_end'>>(items: readonly T[], month: string): { ending: T[]; spanning: T[] } {
  const { from, to } = monthRange(month)
  const ending: T[] = []
  const spanning: T[] = []
  for (const i of items) {
    if (i.period_end >= from && i.period_end <= to) ending.push(i)
    else if (i.period_start <= to && i.period_end >= from) spanning.push(i)
  }
  return { ending, spanning }
}

export const DUE_SOON_DAYS = 7

export function isDueSoon(i: Pick<ComplianceItem, 'state' | 'days_left'>): boolean {
  return i.state === 'due' && typeof i.days_left === 'number' && i.days_left <= DUE_SOON_DAYS
}

/** Missing first (the longest overdue first), then due (the fewest days left first), then the rest. */
export function sortIssues<T extends Pick<ComplianceItem, 'state' | 'period_end' | 'days_left' | 'org_name'>>(items: readonly T[]): T[] {
  const rank = (s: string) => (s === 'missing' ? 0 : s === 'due' ? 1 : 2)
  return [...items].sort(
    (a, b) =>
      rank(a.state) - rank(b.state) ||
      (a.state === 'due' ? (a.days_left ?? 0) - (b.days_left ?? 0) : a.period_end.localeCompare(b.period_end)) ||
      a.org_name.localeCompare(b.org_name, 'zh-CN'),
  )
}

export type IssueFilter = '' | 'missing' | 'due' | 'due_soon'

export function filterIssues<T extends Pick<ComplianceItem, 'state' | 'days_left' | 'kind'>>(items: readonly T[], state: IssueFilter, kind: string): T[] {
  return items.filter((i) => (!kind || i.kind === kind) && (state === '' ? i.state !== 'ok' : state === 'due_soon' ? isDueSoon(i) : i.state === state))
}

/** A rate as the API gives it (0..1, null without meetings) → `83.3%`. */
export function rateText(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return '—'
  return `${(rate * 100).toFixed(1)}%`
}

/** The branches with the lowest attendance, as horizontal bars (lowest on top). */
export function attendanceBarOption(byOrg: readonly OrgAttendance[], n = 10, opts: { compact?: boolean } = {}): Record<string, unknown> {
  const shown = byOrg.filter((o) => o.rate !== null && o.rate !== undefined).slice(0, n)
  return {
    color: ['#c8161d'],
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      formatter: (ps: { dataIndex: number }[]) => {
        const o = shown[ps[0]?.dataIndex ?? -1]
        return o ? `${o.org_name}<br/>到会率 ${rateText(o.rate)}（${o.present}/${o.due}，会议 ${o.meetings} 次）` : ''
      },
    },
    grid: { left: 8, right: 56, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' }, splitLine: { lineStyle: { type: 'dashed' } } },
    yAxis: {
      type: 'category',
      inverse: true,
      data: shown.map((o) => o.org_name),
      axisTick: { show: false },
      axisLabel: opts.compact ? { width: 90, overflow: 'truncate', fontSize: 11 } : { width: 180, overflow: 'truncate' },
    },
    series: [
      {
        type: 'bar',
        barMaxWidth: 16,
        label: { show: true, position: 'right', formatter: (p: { value: number }) => `${p.value}%`, fontSize: 11 },
        data: shown.map((o) => Math.round((o.rate ?? 0) * 1000) / 10),
      },
    ],
  }
}

export function attendanceBarHeight(byOrg: readonly OrgAttendance[], n = 10): number {
  return Math.max(160, Math.min(byOrg.length, n) * 30 + 30)
}

/** The members absent 3+ times in a row, the longest streak first. */
export function sortStreaks<T extends Pick<AbsentStreak, 'streak' | 'name'>>(s: readonly T[]): T[] {
  return [...s].sort((a, b) => b.streak - a.streak || a.name.localeCompare(b.name, 'zh-CN'))
}
