import { describe, expect, it } from 'vitest'
import { bucketChartHeight, bucketOption, chartKind, drillRoute, filterQuery, membersRoute, nodeAt, orgTree, percent, treemapOption, trendLabel, trendOption } from './charts'
import { columnTitles, formatValue, lastHalfYearEnd, lastYearEnd, placeHeader, tableLayout } from './reportTable'
import type { Bucket, OrgStat } from './types'

type Series = { type: string; data: { value: number; name?: string; cursor?: string }[] | number[] }
const series = (o: Record<string, unknown>) => o.series as Series[]

const gender: Bucket[] = [
  { key: 'male', label: '男', count: 120, filter: { gender: 'male' } },
  { key: 'female', label: '女', count: 80, filter: { gender: 'female' } },
]
// The 2023 bulletin's age bands (docs/domain.md, Party statistics), plus 未填写 without a filter.
const ages: Bucket[] = [
  { key: 'le30', label: '30岁及以下', count: 40, filter: { born_from: '1995-12-01' } },
  { key: '31_35', label: '31至35岁', count: 30, filter: { born_from: '1990-12-01', born_to: '1995-11-30' } },
  { key: '36_40', label: '36至40岁', count: 20, filter: { born_from: '1985-12-01', born_to: '1990-11-30' } },
  { key: 'unknown', label: '未填写', count: 10, filter: null },
]

describe('bucket → chart options', () => {
  it('draws two or three buckets as a ring, more as horizontal bars in the buckets’ order', () => {
    expect(chartKind(gender)).toBe('pie')
    expect(chartKind(ages)).toBe('bar')
    const pie = series(bucketOption(gender))[0]!
    expect(pie.type).toBe('pie')
    expect(pie.data).toEqual([
      { name: '男', value: 120, cursor: 'pointer' },
      { name: '女', value: 80, cursor: 'pointer' },
    ])
    const bar = bucketOption(ages)
    expect((bar.yAxis as { data: string[]; inverse: boolean }).data).toEqual(['30岁及以下', '31至35岁', '36至40岁', '未填写'])
    expect((bar.yAxis as { inverse: boolean }).inverse).toBe(true)
    const data = series(bar)[0]!.data as { value: number; cursor: string }[]
    expect(data.map((d) => d.value)).toEqual([40, 30, 20, 10])
    // A bucket no filter expresses is not clickable.
    expect(data[3]!.cursor).toBe('default')
  })

  it('moves ring labels into the legend on a phone and sizes bars by their count', () => {
    const o = bucketOption(gender, { compact: true })
    expect((series(o)[0] as unknown as { label: { show: boolean } }).label.show).toBe(false)
    expect((o.legend as { formatter: (n: string) => string }).formatter('男')).toBe('男 120（60.0%）')
    expect(bucketChartHeight(gender)).toBe(260)
    expect(bucketChartHeight(ages)).toBe(200)
    expect(bucketChartHeight([...ages, ...ages, ...ages])).toBe(12 * 30 + 30)
  })

  it('shows shares with one decimal and no division by zero', () => {
    expect(percent(1, 3)).toBe('33.3%')
    expect(percent(0, 0)).toBe('0%')
  })

  it('stacks full and probationary per year end, the total as a line; today is 当前', () => {
    const o = trendOption([
      { as_of: '2024-12-31', total: 10, full: 8, probationary: 2 },
      { as_of: '2025-12-31', total: 12, full: 9, probationary: 3 },
      { as_of: '2026-11-30', total: 13, full: 11, probationary: 2 },
    ])
    expect((o.xAxis as { data: string[] }).data).toEqual(['2024', '2025', '当前'])
    expect(series(o).map((s) => s.type)).toEqual(['bar', 'bar', 'line'])
    expect(series(o)[2]!.data).toEqual([10, 12, 13])
    expect(trendLabel('2026-12-31')).toBe('2026')
  })
})

describe('bucket → drill-down route', () => {
  it('lists the org’s members with status 正常 and the bucket’s filter', () => {
    expect(drillRoute(7, gender[0]!)).toEqual({ path: '/members', query: { status: 'normal', gender: 'male', org_id: '7' } })
    expect(drillRoute(7, ages[1]!)).toEqual({ path: '/members', query: { status: 'normal', born_from: '1990-12-01', born_to: '1995-11-30', org_id: '7' } })
  })

  it('has no route for a bucket without a filter', () => {
    expect(drillRoute(7, ages[3]!)).toBeNull()
    expect(drillRoute(7, { filter: undefined })).toBeNull()
  })

  it('turns values into strings, drops empty ones, and never lets the filter move the org', () => {
    expect(filterQuery({ missing: 'phone', org_id: 1, gender: null, category: '' })).toEqual({ missing: 'phone', org_id: '1' })
    expect(drillRoute(3, { filter: { org_id: 99, status: 'suspended' } })).toEqual({ path: '/members', query: { status: 'suspended', org_id: '3' } })
    expect(membersRoute(3, { category: 'full' })).toEqual({ path: '/members', query: { status: 'normal', category: 'full', org_id: '3' } })
  })
})

describe('org statistics → treemap', () => {
  const items: OrgStat[] = [
    { org_id: 1, parent_id: null, name: '党委', kind: 'committee', depth: 0, members: 30, full: 28, probationary: 2 },
    { org_id: 2, parent_id: 1, name: '总支', kind: 'general_branch', depth: 1, members: 20, full: 19, probationary: 1 },
    { org_id: 3, parent_id: 2, name: '一支部', kind: 'branch', depth: 2, members: 12, full: 12, probationary: 0 },
    { org_id: 4, parent_id: 2, name: '二支部', kind: 'branch', depth: 2, members: 8, full: 7, probationary: 1 },
    { org_id: 5, parent_id: 1, name: '直属支部', kind: 'branch', depth: 1, members: 10, full: 9, probationary: 1 },
  ]

  it('nests the items under the root with subtree counts as values', () => {
    const root = orgTree(items)!
    expect(root.id).toBe(1)
    expect(root.children!.map((c) => [c.id, c.value])).toEqual([
      [2, 20],
      [5, 10],
    ])
    expect(root.children![0]!.children!.map((c) => c.name)).toEqual(['一支部', '二支部'])
    expect(orgTree([])).toBeNull()
  })

  it('finds the clicked node by its path of names from the series root', () => {
    const root = orgTree(items)!
    expect(nodeAt(root, ['党委', '总支', '二支部'])!.id).toBe(4)
    expect(nodeAt(root, ['党委', '直属支部'])!.id).toBe(5)
    // A name that is not there: the deepest node found so far.
    expect(nodeAt(root, ['党委', '总支', '不存在'])!.id).toBe(2)
    expect(nodeAt(root, ['党委'])).toBeNull()
  })

  it('hangs an item whose parent is missing under the root', () => {
    const root = orgTree([...items, { org_id: 9, parent_id: 77, name: '孤立', kind: 'branch', depth: 2, members: 1, full: 1, probationary: 0 }])!
    expect(root.children!.map((c) => c.id)).toContain(9)
  })

  it('draws the root’s children and lets the page handle clicks (no zoom)', () => {
    const o = treemapOption(orgTree(items)!)
    const s = (o.series as { nodeClick: unknown; data: { id: number }[] }[])[0]!
    expect(s.nodeClick).toBe(false)
    expect(s.data.map((d) => d.id)).toEqual([2, 5])
    const leaf = treemapOption(orgTree([items[0]!])!)
    expect((leaf.series as { data: { id: number }[] }[])[0]!.data.map((d) => d.id)).toEqual([1])
  })
})

describe('report header → table spans', () => {
  // 党员总数及增减: 项目 over two rows, then 合计 and 其中 (女 · 少数民族) as a group.
  const header = [
    [{ text: '项目', rowspan: 2, colspan: 1 }, { text: '合计', rowspan: 2, colspan: 1 }, { text: '其中', colspan: 2, rowspan: 1 }],
    [{ text: '女', colspan: 1, rowspan: 1 }, { text: '少数民族', colspan: 1, rowspan: 1 }],
  ]

  it('places cells past those spanning down from the row above', () => {
    const { rows, width } = placeHeader(header)
    expect(width).toBe(4)
    expect(rows[0]!.map((c) => [c.text, c.col])).toEqual([
      ['项目', 0],
      ['合计', 1],
      ['其中', 2],
    ])
    expect(rows[1]!.map((c) => [c.text, c.col])).toEqual([
      ['女', 2],
      ['少数民族', 3],
    ])
  })

  it('defaults missing spans to 1 and clamps a rowspan to the header', () => {
    const { rows, width } = placeHeader([[{ text: 'a' }, { text: 'b', rowspan: 5 }], [{ text: 'c' }]])
    expect(width).toBe(2)
    expect(rows[0]![1]!.rowspan).toBe(2)
    expect(rows[1]![0]!.col).toBe(0)
  })

  it('keeps a header that already has the label column', () => {
    const l = tableLayout({ header, rows: [{ label: '党员总数', values: [100, 40, 5], total: true }] })
    expect(l.width).toBe(4)
    expect(l.header[0]![0]!.text).toBe('项目')
  })

  it('adds a label column header spanning all rows when the header covers only the values', () => {
    const onlyValues = [[{ text: '合计', rowspan: 2 }, { text: '其中', colspan: 2 }], [{ text: '女' }, { text: '少数民族' }]]
    const l = tableLayout({ header: onlyValues, rows: [{ label: '党员总数', values: [100, 40, 5] }] }, '项目')
    expect(l.width).toBe(4)
    expect(l.header[0]![0]).toEqual({ text: '项目', colspan: 1, rowspan: 2, col: 0 })
    expect(l.header[1]!.map((c) => c.col)).toEqual([2, 3])
  })

  it('titles each column by the cells over it, for the phone’s cards', () => {
    const l = tableLayout({ header, rows: [{ label: '党员总数', values: [100, 40, 5] }] })
    expect(columnTitles(l)).toEqual(['项目', '合计', '其中 · 女', '其中 · 少数民族'])
  })

  it('numbers the columns when there is no header', () => {
    const l = tableLayout({ header: [], rows: [{ label: 'x', values: [1, 2] }] })
    expect(l.header[0]!.map((c) => c.text)).toEqual(['项目', '1', '2'])
    expect(l.width).toBe(3)
  })

  it('prints numbers with separators and knows the default dates', () => {
    expect(formatValue(12345)).toBe('12,345')
    expect(formatValue(null)).toBe('')
    expect(lastYearEnd('2026-11-30')).toBe('2025-12-31')
    expect(lastYearEnd('2027-01-01')).toBe('2026-12-31')
    expect(lastHalfYearEnd('2026-11-30')).toBe('2026-06-30')
    expect(lastHalfYearEnd('2026-06-30')).toBe('2026-06-30')
    expect(lastHalfYearEnd('2026-03-01')).toBe('2025-06-30')
  })
})
