// The statistics and report endpoints of issue 5 (数据看板, 统计报表) through the one client, so
// the token, the acting grant and the refresh-on-401 apply. A report's workbook comes as a blob
// (it needs the Authorization header, so a plain <a href> cannot fetch it).
import { api, call } from './client'
import { fileNameOf, saveBlob } from './imports'
import type { OrgStats, Reminders, Report, ReportRequest, Structure, Trend } from '@/views/stats/types'

export type { ReportRequest }

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

type OrgDate = { org_id?: number | null; as_of?: string | null }

/** The query without empty values (the server's defaults apply then). */
function clean<T extends Record<string, unknown>>(q: T): { [K in keyof T]?: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(q).filter(([, v]) => v !== null && v !== undefined && v !== '')) as { [K in keyof T]?: Exclude<T[K], null> }
}

export function getStructure(q: OrgDate, signal?: AbortSignal): Promise<Structure> {
  return call(api.GET('/api/v1/stats/structure', { params: { query: clean(q) }, signal }))
}

export function getTrend(q: { org_id?: number | null; years?: number }, signal?: AbortSignal): Promise<Trend> {
  return call(api.GET('/api/v1/stats/trend', { params: { query: clean(q) }, signal }))
}

export function getOrgStats(q: OrgDate & { depth?: number }, signal?: AbortSignal): Promise<OrgStats> {
  return call(api.GET('/api/v1/stats/orgs', { params: { query: clean(q) }, signal }))
}

export function getReminders(q: { org_id?: number | null }, signal?: AbortSignal): Promise<Reminders> {
  return call(api.GET('/api/v1/stats/reminders', { params: { query: clean(q) }, signal }))
}

export async function generateReport(body: ReportRequest, signal?: AbortSignal): Promise<Report> {
  const data = await call(api.POST('/api/v1/reports/party-statistics', { body, headers: { Accept: 'application/json' }, signal }))
  // The 200 answers JSON or the workbook, by Accept: here JSON.
  return data as Report
}

/** The same report as a workbook, saved under the server's file name (Content-Disposition). */
export async function downloadReport(body: ReportRequest, fallbackName: string): Promise<string> {
  const r = await api.POST('/api/v1/reports/party-statistics', { body, headers: { Accept: XLSX_TYPE }, parseAs: 'blob' })
  const blob = (await call(Promise.resolve(r))) as unknown as Blob
  const name = fileNameOf(r.response.headers.get('Content-Disposition')) ?? fallbackName
  saveBlob(blob, name)
  return name
}
