// The import endpoints (issue 4): templates, dry run / commit (multipart), jobs, past imports and
// the annotated workbook. Everything goes through the one client, so the token, the acting grant
// and the refresh-on-401 apply; downloads come as blobs (they need the Authorization header, so a
// plain <a href> cannot fetch them).
import { api, call } from './client'
import type { ImportDetail, ImportKind, ImportReport, ImportSummary, Job, PageImportSummary } from './types'

export type { ImportDetail, ImportKind, ImportReport, ImportSummary, Job }

export const IMPORT_KINDS: readonly ImportKind[] = ['members', 'orgs']
/** Spreadsheet formats the importer reads. */
export const IMPORT_ACCEPT = '.xlsx,.xls,.ods,.csv'
/** Checked before uploading, so a user with a huge file hears it at once (the server's limit, 20 MB). */
export const MAX_IMPORT_BYTES = 20 * 1024 * 1024

export type UploadResult = { kind: 'report'; report: ImportReport } | { kind: 'job'; jobId: number }

/** Dry run or commit. 200 answers the report; 202 `{job_id}` a job to poll (large files). */
export async function uploadImport(kind: ImportKind, file: File, opts: { dryRun: boolean; skipInvalid: boolean }, signal?: AbortSignal): Promise<UploadResult> {
  const form = new FormData()
  form.append('file', file, file.name)
  const body: unknown = await call(
    api.POST('/api/v1/imports/{kind}', {
      params: { path: { kind }, query: { dry_run: opts.dryRun, skip_invalid: opts.skipInvalid } },
      // The generated body type describes the form's fields; the browser sends the FormData itself.
      body: form as unknown as { file: string },
      bodySerializer: (b: unknown) => b as FormData,
      signal,
    }),
  )
  // A large file runs as a job (202 {job_id}), as docs/api.md describes.
  const job = (body as { job_id?: unknown }).job_id
  if (typeof job === 'number') return { kind: 'job', jobId: job }
  return { kind: 'report', report: body as ImportReport }
}

export function getJob(id: number, signal?: AbortSignal): Promise<Job> {
  return call(api.GET('/api/v1/jobs/{id}', { params: { path: { id } }, signal }))
}

/** A finished job's `result`: an import's report. */
export function jobReport(job: Job): ImportReport | null {
  const r = job.result as unknown
  if (!r || typeof r !== 'object' || !('problems' in r)) return null
  return r as ImportReport
}

export function listImports(query: { page: number; page_size: number; kind?: ImportKind }): Promise<PageImportSummary> {
  return call(api.GET('/api/v1/imports', { params: { query } }))
}

export function getImport(id: number): Promise<ImportDetail> {
  return call(api.GET('/api/v1/imports/{id}', { params: { path: { id } } }))
}

/** The file name of a Content-Disposition header (RFC 6266: filename* first, UTF-8). */
export function fileNameOf(cd: string | null): string | null {
  if (!cd) return null
  const star = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(cd)
  if (star) {
    try {
      return decodeURIComponent(star[1]!.trim())
    } catch {
      /* fall through */
    }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/.exec(cd)
  return plain ? plain[1]!.trim() : null
}

export function saveBlob(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}

async function saveDownload(p: Promise<{ data?: unknown; error?: unknown; response: Response }>, fallbackName: string) {
  const r = await p
  const blob = (await call(Promise.resolve(r))) as unknown as Blob
  saveBlob(blob, fileNameOf(r.response.headers.get('Content-Disposition')) ?? fallbackName)
}

export function downloadTemplate(kind: ImportKind, fallbackName: string): Promise<void> {
  return saveDownload(api.GET('/api/v1/imports/templates/{kind}', { params: { path: { kind } }, parseAs: 'blob' }), fallbackName)
}

export function downloadAnnotated(id: number, fallbackName: string): Promise<void> {
  return saveDownload(api.GET('/api/v1/imports/{id}/annotated', { params: { path: { id } }, parseAs: 'blob' }), fallbackName)
}
