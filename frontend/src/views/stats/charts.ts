// Data mapping of the dashboard (数据看板): buckets → ECharts options, bucket → the member list
// behind it (drill-down), org statistics → the treemap's tree. Pure functions, unit-tested.
import type { LocationQueryRaw, RouteLocationRaw } from 'vue-router'
import type { Bucket, OrgStat, TrendPoint } from './types'

export const PALETTE = ['#c8161d', '#e8676c', '#f5a623', '#f7d08a', '#8e0d12', '#d4743a', '#b8860b', '#a35d5d', '#f0b7a4', '#909399']
/** Tiles carry white text: darker tones only. */
const TILES = ['#c8161d', '#d4743a', '#b8860b', '#8e0d12', '#e6712e', '#a35d5d', '#c0392b', '#9c6b1c']

/** Few buckets read best as a ring; more (or long labels) as horizontal bars. */
export function chartKind(buckets: readonly Bucket[]): 'pie' | 'bar' {
  return buckets.length <= 3 ? 'pie' : 'bar'
}

export function bucketTotal(buckets: readonly Bucket[]): number {
  return buckets.reduce((s, b) => s + b.count, 0)
}

export function percent(part: number, whole: number): string {
  if (!whole) return '0%'
  return `${((part / whole) * 100).toFixed(1)}%`
}

export interface ChartOpts {
  /** Narrow screen: no outside labels on a ring, shorter axis labels. */
  compact?: boolean
}

/** One dimension's chart. The series data keep the buckets' order, so a click's dataIndex is the bucket's index. */
export function bucketOption(buckets: readonly Bucket[], opts: ChartOpts = {}): Record<string, unknown> {
  const total = bucketTotal(buckets)
  if (chartKind(buckets) === 'pie') {
    // On a phone the ring has no room for labels: the legend carries the counts and shares.
    const counts = new Map(buckets.map((b) => [b.label, b.count]))
    const legendText = (name: string) => `${name} ${counts.get(name) ?? 0}（${percent(counts.get(name) ?? 0, total)}）`
    return {
      color: PALETTE,
      tooltip: { trigger: 'item', formatter: '{b}：{c} 人（{d}%）' },
      legend: { bottom: 0, itemWidth: 12, itemHeight: 12, ...(opts.compact ? { type: 'plain', formatter: legendText } : { type: 'scroll' }) },
      series: [
        {
          type: 'pie',
          radius: ['40%', '66%'],
          center: ['50%', '44%'],
          avoidLabelOverlap: true,
          minShowLabelAngle: 8,
          label: opts.compact ? { show: false } : { show: true, formatter: '{b}\n{c} 人' },
          labelLine: { show: !opts.compact },
          data: buckets.map((b) => ({ name: b.label, value: b.count, cursor: b.filter ? 'pointer' : 'default' })),
        },
      ],
    }
  }
  return {
    color: PALETTE,
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      valueFormatter: (v: unknown) => `${String(v)} 人（${percent(Number(v), total)}）`,
    },
    grid: { left: 8, right: 44, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: 'value', minInterval: 1, splitLine: { lineStyle: { type: 'dashed' } } },
    yAxis: {
      type: 'category',
      inverse: true,
      data: buckets.map((b) => b.label),
      axisTick: { show: false },
      // Long labels (入党时间 periods, job categories) wrap on a phone rather than lose their end.
      axisLabel: opts.compact ? { width: 92, overflow: 'break', fontSize: 11, lineHeight: 13 } : { width: 180, overflow: 'truncate' },
    },
    series: [
      {
        type: 'bar',
        barMaxWidth: 18,
        label: { show: true, position: 'right', fontSize: 11 },
        data: buckets.map((b) => ({ value: b.count, cursor: b.filter ? 'pointer' : 'default' })),
      },
    ],
  }
}

/** Height that fits a bar chart's rows (the rings have a fixed height). */
export function bucketChartHeight(buckets: readonly Bucket[]): number {
  if (chartKind(buckets) === 'pie') return 260
  return Math.max(200, buckets.length * 30 + 30)
}

/** Year ends as the year; the last point (today, unless today is a year end) as 当前. */
export function trendLabel(asOf: string): string {
  return asOf.endsWith('-12-31') ? asOf.slice(0, 4) : '当前'
}

/** Membership over the years: full and probationary stacked, the total as a line. */
export function trendOption(points: readonly TrendPoint[], opts: ChartOpts = {}): Record<string, unknown> {
  return {
    color: ['#c8161d', '#f5a623', '#8e0d12'],
    tooltip: { trigger: 'axis' },
    legend: { bottom: 0, itemWidth: 12, itemHeight: 12 },
    grid: { left: 8, right: 16, top: 24, bottom: 32, containLabel: true },
    xAxis: { type: 'category', data: points.map((p) => trendLabel(p.as_of)), axisLabel: { hideOverlap: true, fontSize: opts.compact ? 10 : 12 } },
    yAxis: { type: 'value', minInterval: 1, splitLine: { lineStyle: { type: 'dashed' } } },
    series: [
      { name: '正式党员', type: 'bar', stack: 'm', barMaxWidth: 28, data: points.map((p) => p.full) },
      { name: '预备党员', type: 'bar', stack: 'm', barMaxWidth: 28, data: points.map((p) => p.probationary) },
      { name: '党员总数', type: 'line', smooth: true, symbolSize: 6, data: points.map((p) => p.total) },
    ],
  }
}

/** Bucket.filter as route query values (strings), without nulls. */
export function filterQuery(filter: Bucket['filter']): LocationQueryRaw | null {
  if (!filter) return null
  const q: LocationQueryRaw = {}
  for (const [k, v] of Object.entries(filter)) {
    if (v === null || v === undefined || v === '') continue
    q[k] = String(v)
  }
  return q
}

/**
 * The member list behind a bucket: `/members?org_id=<org>&<bucket.filter>` (contract: filter = GET
 * /members parameters). The statistics count members with status 正常 only (docs/domain.md, Party
 * statistics), so the list asks for them unless the filter says otherwise. Null when no filter
 * can express the bucket.
 */
export function drillRoute(orgId: number, bucket: Pick<Bucket, 'filter'>): RouteLocationRaw | null {
  const q = filterQuery(bucket.filter)
  if (!q) return null
  return { path: '/members', query: { status: 'normal', ...q, org_id: String(orgId) } }
}

/** The members of an org (and below) with status 正常, optionally one category. */
export function membersRoute(orgId: number, extra: LocationQueryRaw = {}): RouteLocationRaw {
  return { path: '/members', query: { status: 'normal', ...extra, org_id: String(orgId) } }
}

export interface TreeNode {
  id: number
  name: string
  value: number
  kind: string
  full: number
  probationary: number
  children?: TreeNode[]
}

/**
 * GET /stats/orgs items (each `members` counts its whole subtree) → nested nodes under the root
 * (depth 0). Items whose parent is missing hang under the root, so none is lost.
 */
export function orgTree(items: readonly OrgStat[]): TreeNode | null {
  const root = items.find((i) => i.depth === 0)
  if (!root) return null
  const nodes = new Map<number, TreeNode>()
  for (const i of items) nodes.set(i.org_id, { id: i.org_id, name: i.name, value: i.members, kind: i.kind, full: i.full, probationary: i.probationary })
  for (const i of [...items].sort((a, b) => a.depth - b.depth)) {
    if (i === root) continue
    const parent = nodes.get(i.parent_id ?? -1) ?? nodes.get(root.org_id)!
    const node = nodes.get(i.org_id)!
    ;(parent.children ??= []).push(node)
  }
  return nodes.get(root.org_id)!
}

/**
 * Treemap option of the root's children (the root is the whole area). A parent that holds members
 * itself as well as through children keeps its own `value` (ECharts sums children only when
 * the value is missing).
 */
export function treemapOption(root: TreeNode, opts: ChartOpts = {}): Record<string, unknown> {
  const data = root.children?.length ? root.children : [root]
  return {
    color: TILES,
    tooltip: {
      formatter: (p: { name: string; value: number; data?: TreeNode }) =>
        typeof p.data?.full === 'number' ? `${p.name}<br/>党员 ${p.value} 人（正式 ${p.data.full}，预备 ${p.data.probationary}）` : `${p.name}：${p.value} 人`,
    },
    series: [
      {
        type: 'treemap',
        name: root.name,
        roam: false,
        nodeClick: false,
        breadcrumb: { show: false },
        // A phone shows one level (the next one is clicked into); a PC two.
        leafDepth: opts.compact ? 1 : undefined,
        width: '100%',
        height: '100%',
        top: 0,
        left: 0,
        label: { show: true, formatter: '{b}\n{c}', fontSize: opts.compact ? 10 : 12, overflow: 'truncate' },
        upperLabel: { show: true, height: 20, color: '#3a1212', fontSize: opts.compact ? 10 : 12, formatter: '{b}（{c}）' },
        levels: [
          { itemStyle: { borderColor: '#fff', borderWidth: 2, gapWidth: 2 } },
          // Children keep their parent's tone (lighter shades would wash out the white labels); the
          // parent's name sits on its border, so the border is a deeper shade of its colour.
          { itemStyle: { borderColorSaturation: 0.75, borderWidth: 2, gapWidth: 1 } },
          { itemStyle: { borderColorSaturation: 0.6, borderWidth: 1, gapWidth: 1 } },
        ],
        data,
      },
    ],
  }
}

/**
 * The org a treemap click means: ECharts gives the names from its (unnamed) series root down to
 * the node; they are followed from the root's children, so equal names under different parents
 * (第一党小组) stay apart.
 */
export function nodeAt(root: TreeNode, path: readonly string[]): TreeNode | null {
  let level = root.children?.length ? root.children : [root]
  let found: TreeNode | null = null
  for (const name of path.slice(1)) {
    const next: TreeNode | undefined = level.find((n) => n.name === name)
    if (!next) return found
    found = next
    level = next.children ?? []
  }
  return found
}
