// Names for the generated schema types of the statistics and report endpoints (issue 5).
import type { components } from '@/api/schema'

type S = components['schemas']

// GET /stats/structure, /stats/trend, /stats/orgs
export type BucketFilter = S['BucketFilter']
export type Bucket = S['Bucket']
export type Structure = S['Structure']
export type DimensionKey = keyof S['Dimensions']
export type TrendPoint = S['TrendPoint']
export type Trend = S['Trend']
export type OrgStat = S['OrgStatsItem']
export type OrgStats = S['OrgStats']

// GET /stats/reminders
export type ReminderKind = S['ReminderKind']
export type Reminder = S['Reminder']
export type Reminders = S['Reminders']

// POST /reports/party-statistics
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
