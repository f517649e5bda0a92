// Streamed XLSX exports (花名册) of the member list and the org list: the list's own filters plus
// the chosen columns. The download goes through the one client (token, acting grant,
// refresh-on-401), read as a stream so the screen can show the bytes received, then saved under
// the server's file name (Content-Disposition, RFC 5987 filename*).
import { api, call } from './client'
import type { paths } from './schema'
import { fileNameOf, saveBlob } from './imports'

export type ExportKind = 'members' | 'orgs'
export type ExportColumn = { key: string; label: string }
export type MemberExportQuery = NonNullable<paths['/api/v1/members/export.xlsx']['get']['parameters']['query']>
export type OrgExportQuery = NonNullable<paths['/api/v1/orgs/export.xlsx']['get']['parameters']['query']>
export type ExportQuery = MemberExportQuery | OrgExportQuery

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

export function exportColumns(kind: ExportKind): Promise<ExportColumn[]> {
  return kind === 'members' ? call(api.GET('/api/v1/members/export/columns')) : call(api.GET('/api/v1/orgs/export/columns'))
}

/** The `columns` parameter: omitted when every column is wanted in the default order. */
export function columnsParam(chosen: readonly string[], all: readonly ExportColumn[]): string | undefined {
  const ordered = all.map((c) => c.key).filter((k) => chosen.includes(k))
  if (ordered.length === all.length) return undefined
  return ordered.join(',')
}

/** Reads a body to the end, reporting the bytes received so far after each chunk. */
export async function readWithProgress(body: ReadableStream<Uint8Array>, onProgress: (bytes: number) => void): Promise<Uint8Array[]> {
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let received = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
    received += value.byteLength
    onProgress(received)
  }
  return chunks
}

/** 1.2 MB, 340 KB, 900 B. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`
  if (n >= 1024) return `${Math.round(n / 1024)} KB`
  return `${n} B`
}

/** Runs the export and saves the file; answers its name and size. Errors before the first byte
 *  (a bad filter, out of scope) come as ApiError, like any call. */
export async function downloadExport(
  kind: ExportKind,
  query: ExportQuery,
  columns: string | undefined,
  onProgress: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<{ name: string; bytes: number }> {
  const withColumns = columns ? { ...query, columns } : { ...query }
  const r =
    kind === 'members'
      ? await api.GET('/api/v1/members/export.xlsx', { params: { query: withColumns as MemberExportQuery }, parseAs: 'stream', signal })
      : await api.GET('/api/v1/orgs/export.xlsx', { params: { query: withColumns as OrgExportQuery }, parseAs: 'stream', signal })
  const body = (await call(Promise.resolve(r))) as unknown as ReadableStream<Uint8Array> | null
  const chunks = body ? await readWithProgress(body, onProgress) : []
  const blob = new Blob(chunks as BlobPart[], { type: XLSX_TYPE })
  const name = fileNameOf(r.response.headers.get('Content-Disposition')) ?? (kind === 'members' ? '党员花名册.xlsx' : '党组织名册.xlsx')
  saveBlob(blob, name)
  return { name, bytes: blob.size }
}
