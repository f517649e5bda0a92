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
  // The statistics' drill-down (contract "GET /members filters"): set from a dashboard link,
  // shown as closable tags.
  ethnicity: string
  ethnic_group: EthnicGroup | ''
  education: string
  job_category: string
  born_from: string
  born_to: string
  full_from: string
  full_to: string
  missing: MissingField | ''
}

export const ETHNIC_GROUPS = ['han', 'minority'] as const
export type EthnicGroup = (typeof ETHNIC_GROUPS)[number]
export const MISSING_FIELDS = ['id_number', 'birth_date', 'ethnicity', 'education', 'job_category', 'phone'] as const
export type MissingField = (typeof MISSING_FIELDS)[number]
/** The drill-down filters, each cleared on its own (a tag's close). */
export const DRILL_KEYS = ['ethnicity', 'ethnic_group', 'education', 'job_category', 'born', 'full', 'missing'] as const
export type DrillKey = (typeof DRILL_KEYS)[number]

const TEXT_KEYS = ['ethnicity', 'education', 'job_category'] as const
const DATE_KEYS = ['joined_from', 'joined_to', 'born_from', 'born_to', 'full_from', 'full_to'] as const

export const PAGE_SIZES = [10, 20, 50, 100]

export function emptyFilters(): MemberFilters {
  return {
    q: '',
    category: '',
    status: '',
    gender: '',
    joined_from: '',
    joined_to: '',
    org_id: null,
    page: 1,
    page_size: 20,
    ethnicity: '',
    ethnic_group: '',
    education: '',
    job_category: '',
    born_from: '',
    born_to: '',
    full_from: '',
    full_to: '',
    missing: '',
  }
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
  for (const k of DATE_KEYS) {
    const v = one(query[k])
    f[k] = DATE.test(v) ? v : ''
  }
  for (const k of TEXT_KEYS) f[k] = one(query[k]).trim().slice(0, 50)
  f.ethnic_group = pickEnum(one(query.ethnic_group), ETHNIC_GROUPS)
  f.missing = pickEnum(one(query.missing), MISSING_FIELDS)
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
  for (const k of DATE_KEYS) if (f[k]) q[k] = f[k]
  for (const k of TEXT_KEYS) if (f[k]) q[k] = f[k]
  if (f.ethnic_group) q.ethnic_group = f.ethnic_group
  if (f.missing) q.missing = f.missing
  if (f.org_id !== null) q.org_id = String(f.org_id)
  if (f.page > 1) q.page = String(f.page)
  if (f.page_size !== 20) q.page_size = String(f.page_size)
  return q
}

/** The list's filters as GET /members (and /members/export.xlsx) take them. */
export type MemberFilterQuery = {
  q?: string
  category?: Category
  status?: MemberStatus
  gender?: Gender
  joined_from?: string
  joined_to?: string
  org_id?: number
  ethnicity?: string
  ethnic_group?: EthnicGroup
  education?: string
  job_category?: string
  born_from?: string
  born_to?: string
  full_from?: string
  full_to?: string
  missing?: MissingField
}

export type MemberApiQuery = MemberFilterQuery & { page: number; page_size: number }

export function toFilterQuery(f: MemberFilters): MemberFilterQuery {
  const q: MemberFilterQuery = {}
  if (f.q.trim()) q.q = f.q.trim()
  if (f.category) q.category = f.category
  if (f.status) q.status = f.status
  if (f.gender) q.gender = f.gender
  for (const k of DATE_KEYS) if (f[k]) q[k] = f[k]
  for (const k of TEXT_KEYS) if (f[k]) q[k] = f[k]
  if (f.ethnic_group) q.ethnic_group = f.ethnic_group
  if (f.missing) q.missing = f.missing
  if (f.org_id !== null) q.org_id = f.org_id
  return q
}

export function toApiQuery(f: MemberFilters): MemberApiQuery {
  return { ...toFilterQuery(f), page: f.page, page_size: f.page_size }
}

/** The drill-down filters that are set, as (key, tag text). */
export function drillTags(f: MemberFilters, text: { ethnicity: (v: string) => string; ethnicGroup: Record<string, string>; education: (v: string) => string; jobCategory: (v: string) => string; born: (a: string, b: string) => string; full: (a: string, b: string) => string; missing: (field: string) => string; missingFields: Record<string, string> }): { key: DrillKey; label: string }[] {
  const tags: { key: DrillKey; label: string }[] = []
  if (f.ethnicity) tags.push({ key: 'ethnicity', label: text.ethnicity(f.ethnicity) })
  if (f.ethnic_group) tags.push({ key: 'ethnic_group', label: text.ethnicGroup[f.ethnic_group] ?? f.ethnic_group })
  if (f.education) tags.push({ key: 'education', label: text.education(f.education) })
  if (f.job_category) tags.push({ key: 'job_category', label: text.jobCategory(f.job_category) })
  if (f.born_from || f.born_to) tags.push({ key: 'born', label: text.born(f.born_from, f.born_to) })
  if (f.full_from || f.full_to) tags.push({ key: 'full', label: text.full(f.full_from, f.full_to) })
  if (f.missing) tags.push({ key: 'missing', label: text.missing(text.missingFields[f.missing] ?? f.missing) })
  return tags
}

/** Clears one drill-down filter. */
export function clearDrill(f: MemberFilters, key: DrillKey) {
  if (key === 'born') {
    f.born_from = ''
    f.born_to = ''
  } else if (key === 'full') {
    f.full_from = ''
    f.full_to = ''
  } else {
    f[key] = ''
  }
}
