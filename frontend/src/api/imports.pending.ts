// TEMPORARY — delete when the backend's import endpoints are in openapi/openapi.json.
// The import API (issue 4) is being written in parallel with this screen; until `make openapi &&
// npm run gen:api` brings the generated types, these follow the agreed contract so the screen and
// its tests can be written. src/api/types.ts re-exports the generated ones afterwards.
import { api } from './client'

export type ImportKind = 'members' | 'orgs'
export interface ImportProblem {
  row: number
  column?: string | null
  code: string
  message: string
}
export interface ImportReport {
  import_id: number
  kind: ImportKind
  dry_run: boolean
  committed: boolean
  rows_read: number
  created: number
  updated: number
  unchanged: number
  invalid: number
  problems: ImportProblem[]
}
export interface ImportStarted {
  job_id: number
}
export interface ImportSummary {
  id: number
  kind: ImportKind
  file_name: string
  created_by?: string | null
  created_at: string
  dry_run: boolean
  committed: boolean
  rows_read: number
  created: number
  updated: number
  unchanged: number
  invalid: number
}
export type ImportDetail = ImportSummary & { report: ImportReport }
export interface PageImportSummary {
  items: ImportSummary[]
  total: number
  page: number
  page_size: number
}

type Result = Promise<{ data?: unknown; error?: unknown; response: Response }>
/** The client without path typing, for the paths not yet in the generated schema. */
export const untypedApi = api as unknown as {
  GET: (path: string, init?: Record<string, unknown>) => Result
  POST: (path: string, init?: Record<string, unknown>) => Result
}
