// The shapes of the statistics and report endpoints, as /work/notes/contract.md (issue 5) states
// them. Stand-ins until `npm run gen:api` carries the endpoints: then these become aliases of the
// generated `components['schemas'][...]`.
import type { components } from '@/api/schema'

type S = components['schemas']

/** The query parameters of GET /members that list a bucket's members (drill-down), or null. */
export type BucketFilter = Record<string, string | number | boolean | null> | null

export interface Bucket {
  key: string
  label: string
  count: number
  filter?: BucketFilter
}

export type DimensionKey = 'gender' | 'category' | 'ethnicity' | 'age_band' | 'education' | 'job_category' | 'joined_period' | 'party_standing'

export interface Structure {
  org_id: number
  org_name: string
  as_of: string
  total: number
  full: number
  probationary: number
  dimensions: Record<DimensionKey, Bucket[]>
  college_or_above: number
  orgs: { total: number; by_kind: Bucket[] }
  pipeline: { applicants?: number | null; activists?: number | null; targets?: number | null; admitted_this_year: number; made_full_this_year: number }
  alerts?: { term_expired: { org_id: number; org_name: string; term_end: string }[]; below_three_full: { org_id: number; org_name: string; full_members: number }[] }
  bands?: { name: string; age: string[]; joined_period: string[] }
}

export interface TrendPoint {
  as_of: string
  total: number
  full: number
  probationary: number
}

export interface Trend {
  org_id: number
  points: TrendPoint[]
}

export interface OrgStat {
  org_id: number
  parent_id?: number | null
  name: string
  kind: string
  depth: number
  members: number
  full: number
  probationary: number
}

export interface OrgStats {
  org_id: number
  as_of: string
  items: OrgStat[]
}

export type ReminderKind = 'term_overdue' | 'term_ending' | 'below_three_full' | 'probation_ending' | 'missing_data'

export interface Reminder {
  kind: ReminderKind
  severity: 'danger' | 'warning' | 'info'
  org_id: number
  org_name: string
  person_id?: number | null
  person_name?: string | null
  due_on?: string | null
  detail_zh: string
  detail_en?: string
}

export interface Reminders {
  org_id: number
  as_of: string
  counts: Record<ReminderKind, number>
  items: Reminder[]
}

// The report's shapes are generated (POST /reports/party-statistics).
export type ReportKind = S['ReportKind']
export type ReportRequest = S['ReportRequest']
export type Report = S['Report']
export type ReportTable = S['Table']
export type ReportRow = S['TableRow']

/** A header cell as the layout functions take it: spans default to 1. */
export interface HeaderCell {
  text: string
  colspan?: number
  rowspan?: number
}
