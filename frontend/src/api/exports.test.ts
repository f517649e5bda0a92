import { describe, expect, it } from 'vitest'
import { columnsParam, formatBytes, readWithProgress } from './exports'
import { clearDrill, drillTags, emptyFilters, fromRouteQuery, toApiQuery, toFilterQuery, toRouteQuery } from '@/utils/memberQuery'
import { t } from '@/locales'

const ALL = [
  { key: 'name', label: '姓名' },
  { key: 'gender', label: '性别' },
  { key: 'phone', label: '手机号码' },
]

describe('export columns', () => {
  it('omits the parameter when every column is chosen, else keeps the default order', () => {
    expect(columnsParam(['phone', 'name', 'gender'], ALL)).toBeUndefined()
    expect(columnsParam(['phone', 'name'], ALL)).toBe('name,phone')
    expect(columnsParam(['phone', 'nope'], ALL)).toBe('phone')
  })
})

describe('export download', () => {
  it('reads a stream to the end and reports the bytes received', async () => {
    const parts = [new Uint8Array([80, 75, 3, 4]), new Uint8Array(10)]
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const p of parts) c.enqueue(p)
        c.close()
      },
    })
    const seen: number[] = []
    const chunks = await readWithProgress(body, (n) => seen.push(n))
    expect(chunks).toHaveLength(2)
    expect(seen).toEqual([4, 14])
  })

  it('formats sizes', () => {
    expect(formatBytes(900)).toBe('900 B')
    expect(formatBytes(2048)).toBe('2 KB')
    expect(formatBytes(1.5 * 1024 * 1024)).toBe('1.5 MB')
  })
})

describe('member list drill-down filters', () => {
  it('come from the dashboard link and go to the API, the export and the URL', () => {
    const f = fromRouteQuery({ org_id: '3', education: '大学本科', ethnic_group: 'minority', born_from: '1986-01-01', born_to: 'x', missing: 'phone', full_to: '2016-12-31' })
    expect(f.education).toBe('大学本科')
    expect(f.born_to).toBe('')
    expect(toFilterQuery(f)).toEqual({ org_id: 3, education: '大学本科', ethnic_group: 'minority', born_from: '1986-01-01', full_to: '2016-12-31', missing: 'phone' })
    expect(toApiQuery(f)).toMatchObject({ page: 1, page_size: 20, missing: 'phone' })
    expect(toRouteQuery(f)).toEqual({ org_id: '3', education: '大学本科', ethnic_group: 'minority', born_from: '1986-01-01', full_to: '2016-12-31', missing: 'phone' })
  })

  it('refuses values the API would refuse', () => {
    const f = fromRouteQuery({ ethnic_group: 'other', missing: 'name' })
    expect(f.ethnic_group).toBe('')
    expect(f.missing).toBe('')
  })

  it('show as tags, each closable', () => {
    const f = { ...emptyFilters(), ethnicity: '回族', full_from: '2016-01-01', missing: 'education' as const }
    expect(drillTags(f, t.drill).map((d) => d.label)).toEqual(['民族：回族', '转正：2016-01-01 至 …', '缺少学历'])
    clearDrill(f, 'full')
    clearDrill(f, 'ethnicity')
    expect(drillTags(f, t.drill).map((d) => d.key)).toEqual(['missing'])
  })
})
