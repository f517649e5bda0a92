// The shapes of the statistics and report endpoints: the generated schema types, and stand-ins
// written from /work/notes/contract.md (issue 5) for the endpoints not generated yet (分析提醒).
import type { components } from '@/api/schema'

type S = components['schemas']

// Generated (GET /stats/structure, /stats/trend, /stats/orgs).
export type BucketFilter = S['BucketFilter']
export type Bucket = S['Bucket']
export type Structure = S['Structure']
export type DimensionKey = keyof S['Dimensions']
export type TrendPoint = S['TrendPoint']
export type Trend = S['Trend']
export type OrgStat = S['OrgStatsItem']
export type OrgStats = S['OrgStats']

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
