// The member list's filters, in the URL (so a reload, a tab and a workbench link keep them) and as
// the API's query (GET /members).
import type { LocationQuery, LocationQueryRaw } from 'vue-router'
import type { Category, Gender, MemberStatus } from '@/api/types'

export interface MemberFilters {
  q: string
  category: Category | ''
  status: MemberStatus | ''
  gender: Gender | ''
  joined_from: string
  joined_to: string
  org_id: number | null
  page: number
  page_size: number
}

export const PAGE_SIZES = [10, 20, 50, 100]

export function emptyFilters(): MemberFilters {
  return { q: '', category: '', status: '', gender: '', joined_from: '', joined_to: '', org_id: null, page: 1, page_size: 20 }
}

const one = (v: LocationQuery[string] | undefined): string => (Array.isArray(v) ? (v[0] ?? '') : (v ?? '')) as string
const DATE = /^\d{4}-\d{2}-\d{2}$/

function pickEnum<T extends string>(v: string, allowed: readonly T[]): T | '' {
  return (allowed as readonly string[]).includes(v) ? (v as T) : ''
}

export function fromRouteQuery(query: LocationQuery): MemberFilters {
  const f = emptyFilters()
  f.q = one(query.q).slice(0, 50)
  f.category = pickEnum(one(query.category), ['full', 'probationary'] as const)
  f.status = pickEnum(one(query.status), ['normal', 'suspended', 'left', 'deceased'] as const)
  f.gender = pickEnum(one(query.gender), ['male', 'female'] as const)
  const from = one(query.joined_from)
  const to = one(query.joined_to)
  f.joined_from = DATE.test(from) ? from : ''
  f.joined_to = DATE.test(to) ? to : ''
  const org = Number(one(query.org_id))
  f.org_id = Number.isInteger(org) && org > 0 ? org : null
  const page = Number(one(query.page))
  f.page = Number.isInteger(page) && page > 0 ? page : 1
  const size = Number(one(query.page_size))
  f.page_size = PAGE_SIZES.includes(size) ? size : 20
  return f
}

export function toRouteQuery(f: MemberFilters): LocationQueryRaw {
  const q: LocationQueryRaw = {}
  if (f.q.trim()) q.q = f.q.trim()
  if (f.category) q.category = f.category
  if (f.status) q.status = f.status
  if (f.gender) q.gender = f.gender
  if (f.joined_from) q.joined_from = f.joined_from
  if (f.joined_to) q.joined_to = f.joined_to
  if (f.org_id !== null) q.org_id = String(f.org_id)
  if (f.page > 1) q.page = String(f.page)
  if (f.page_size !== 20) q.page_size = String(f.page_size)
  return q
}

export type MemberApiQuery = {
  q?: string
  category?: Category
  status?: MemberStatus
  gender?: Gender
  joined_from?: string
  joined_to?: string
  org_id?: number
  page: number
  page_size: number
}

export function toApiQuery(f: MemberFilters): MemberApiQuery {
  const q: MemberApiQuery = { page: f.page, page_size: f.page_size }
  if (f.q.trim()) q.q = f.q.trim()
  if (f.category) q.category = f.category
  if (f.status) q.status = f.status
  if (f.gender) q.gender = f.gender
  if (f.joined_from) q.joined_from = f.joined_from
  if (f.joined_to) q.joined_to = f.joined_to
  if (f.org_id !== null) q.org_id = f.org_id
  return q
}
