// The compliance, heat map, attendance and ledger endpoints of issue 6 through the one client (token,
// acting grant, refresh-on-401). The types are the generated ones, named after what the calls
// answer, so no API shape is written twice.
import { api, call } from '@/api/client'
import { readWithProgress } from '@/api/exports'
import { fileNameOf, saveBlob } from '@/api/imports'

/** The query without empty values (the server's defaults apply then). */
function clean<T extends Record<string, unknown>>(q: T): { [K in keyof T]?: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(q).filter(([, v]) => v !== null && v !== undefined && v !== '')) as { [K in keyof T]?: Exclude<T[K], null> }
}

export function getHeatmap(q: { org_id?: number | null; year: number }, signal?: AbortSignal) {
  return call(api.GET('/api/v1/meetings/heatmap', { params: { query: clean(q) }, signal }))
}

export type ComplianceQuery = {
  org_id?: number | null
  from?: string | null
  to?: string | null
  kind?: string | null
  state?: 'ok' | 'missing' | 'due' | null
  page?: number | null
  page_size?: number | null
}

export function getCompliance(q: ComplianceQuery, signal?: AbortSignal) {
  return call(api.GET('/api/v1/meetings/compliance', { params: { query: clean(q) }, signal }))
}

export function getAttendance(q: { org_id?: number | null; from?: string | null; to?: string | null }, signal?: AbortSignal) {
  return call(api.GET('/api/v1/meetings/attendance', { params: { query: clean(q) }, signal }))
}

export function listMeetings(q: { org_id: number; from: string; to: string; page_size?: number }, signal?: AbortSignal) {
  return call(api.GET('/api/v1/meetings', { params: { query: clean(q) }, signal }))
}

export function listKinds() {
  return call(api.GET('/api/v1/meeting-kinds'))
}

export type Heatmap = Awaited<ReturnType<typeof getHeatmap>>
export type HeatmapRow = Heatmap['rows'][number]
export type HeatmapCell = HeatmapRow['cells'][number]
export type Compliance = Awaited<ReturnType<typeof getCompliance>>
export type ComplianceItem = Compliance['items'][number]
export type ComplianceState = ComplianceItem['state']
export type Attendance = Awaited<ReturnType<typeof getAttendance>>
export type OrgAttendance = Attendance['by_org'][number]
export type MemberAttendance = Attendance['by_member'][number]
export type AbsentStreak = Attendance['absent_streaks'][number]
export type MeetingPage = Awaited<ReturnType<typeof listMeetings>>
export type MeetingSummary = MeetingPage['items'][number]
export type MeetingKind = Awaited<ReturnType<typeof listKinds>>[number]

export type LedgerFormat = 'xlsx' | 'pdf'

/**
 * 支部工作台账 of one org and year, read as a stream (the bytes received shown) and saved under the
 * server's file name. Errors before the first byte (503 pdf_font_missing, out of scope) come as
 * ApiError, like any call.
 */
export async function downloadLedger(
  orgId: number,
  year: number,
  format: LedgerFormat,
  onProgress: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<{ name: string; bytes: number }> {
  const r = await api.GET('/api/v1/orgs/{id}/ledger', { params: { path: { id: orgId }, query: { year, format } }, parseAs: 'stream', signal })
  const body = (await call(Promise.resolve(r))) as unknown as ReadableStream<Uint8Array> | null
  const chunks = body ? await readWithProgress(body, onProgress) : []
  const type = format === 'pdf' ? 'application/pdf' : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
  const blob = new Blob(chunks as BlobPart[], { type })
  const name = fileNameOf(r.response.headers.get('Content-Disposition')) ?? `支部工作台账-${year}.${format}`
  saveBlob(blob, name)
  return { name, bytes: blob.size }
}
