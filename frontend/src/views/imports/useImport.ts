// The import dialog's logic, apart from its looks: a small state machine
//
//   idle ──校验──▶ validating ──▶ report ──确认导入──▶ committing ──▶ done
//    ▲                 │            │                     │
//    └──── error ◀─────┴── 重新选择 ┘                     └──▶ report (error: the report stays)
//
// A large file answers 202 with a job: the job is polled (every `pollMs`) and its progress drives
// the bar; its result is the report. Closing the dialog (or choosing another file) stops polling.
import { computed, ref, shallowRef } from 'vue'
import { ApiError, toApiError } from '@/api/errors'
import { getJob, jobReport, uploadImport, IMPORT_ACCEPT, MAX_IMPORT_BYTES, type ImportKind, type ImportReport, type Job } from '@/api/imports'
import { t } from '@/locales'

export type ImportState = 'idle' | 'validating' | 'report' | 'committing' | 'done'
export interface Progress {
  done: number
  total: number
}

export const POLL_MS = 700

const EXTENSIONS = IMPORT_ACCEPT.split(',')

/** A file the importer may take, or why not (checked before any upload). */
export function checkFile(file: { name: string; size: number }, maxBytes = MAX_IMPORT_BYTES): string | null {
  const name = file.name.toLowerCase()
  if (!EXTENSIONS.some((ext) => name.endsWith(ext))) return t.imports.badType
  if (file.size === 0) return t.imports.emptyFile
  if (file.size > maxBytes) return t.imports.tooLarge(formatBytes(file.size), formatBytes(maxBytes))
  return null
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`
  return `${(n / 1024 / 1024).toFixed(1)} MB`
}

/** What to tell the user about a failed upload or job: the server's zh detail, else by status. */
export function importErrorMessage(e: unknown): string {
  const err = toApiError(e)
  if (err.detailZh) return err.detailZh
  if (t.errors.codes[err.code] && err.code !== 'unknown' && err.code !== 'internal') return t.errors.codes[err.code]!
  if (err.status === 413) return t.imports.serverTooLarge
  if (err.status === 415) return t.imports.badType
  if (err.status === 422) return err.titleZh ?? t.imports.unreadable
  return err.userMessage
}

function jobError(job: Job): string {
  return job.error ? t.imports.jobFailedWhy(job.error) : t.imports.jobFailed
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const id = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => {
      clearTimeout(id)
      reject(new DOMException('aborted', 'AbortError'))
    })
  })

export function useImport(opts: { kind?: ImportKind; pollMs?: number } = {}) {
  const pollMs = opts.pollMs ?? POLL_MS
  const state = ref<ImportState>('idle')
  const kind = ref<ImportKind>(opts.kind ?? 'members')
  const file = shallowRef<File | null>(null)
  const fileError = ref('')
  const error = ref('')
  /** The dry run's report, then (after the commit) the commit's. */
  const report = shallowRef<ImportReport | null>(null)
  const dryRun = shallowRef<ImportReport | null>(null)
  const skipInvalid = ref(false)
  /** A job's progress; null = no job, or a job that gave none yet (an indeterminate bar). */
  const progress = ref<Progress | null>(null)
  const jobId = ref<number | null>(null)
  let aborter: AbortController | null = null

  const busy = computed(() => state.value === 'validating' || state.value === 'committing')
  const percent = computed(() => {
    const p = progress.value
    if (!p || p.total <= 0) return null
    return Math.min(100, Math.round((p.done / p.total) * 100))
  })
  /** Invalid rows block the commit unless the user skips them; nothing to write blocks it too. */
  const mayCommit = computed(() => {
    const r = dryRun.value
    if (state.value !== 'report' || !r || !file.value) return false
    if (r.invalid > 0 && !skipInvalid.value) return false
    return r.created + r.updated > 0
  })

  function stop() {
    aborter?.abort()
    aborter = null
  }

  function reset() {
    stop()
    state.value = 'idle'
    file.value = null
    fileError.value = ''
    error.value = ''
    report.value = null
    dryRun.value = null
    skipInvalid.value = false
    progress.value = null
    jobId.value = null
  }

  /** A new file (or none): back to idle, with what was learnt about the old one dropped. */
  function choose(f: File | null): boolean {
    stop()
    state.value = 'idle'
    report.value = null
    dryRun.value = null
    error.value = ''
    skipInvalid.value = false
    progress.value = null
    if (!f) {
      file.value = null
      fileError.value = ''
      return false
    }
    const why = checkFile(f)
    fileError.value = why ?? ''
    file.value = why ? null : f
    return !why
  }

  function setKind(k: ImportKind) {
    if (k === kind.value) return
    kind.value = k
    if (state.value !== 'idle') choose(file.value)
  }

  async function waitForJob(id: number, signal: AbortSignal): Promise<ImportReport> {
    jobId.value = id
    for (;;) {
      const job = await getJob(id, signal)
      if (signal.aborted) throw new DOMException('aborted', 'AbortError')
      if (job.progress) progress.value = { done: job.progress.done, total: job.progress.total }
      if (job.status === 'succeeded') {
        const rep = jobReport(job)
        if (!rep) throw new Error(t.imports.jobFailed)
        return rep
      }
      if (job.status === 'failed') throw new Error(jobError(job))
      await sleep(pollMs, signal)
    }
  }

  async function run(dry: boolean): Promise<ImportReport | null> {
    const f = file.value
    if (!f) return null
    stop()
    const ac = new AbortController()
    aborter = ac
    error.value = ''
    progress.value = null
    jobId.value = null
    try {
      const r = await uploadImport(kind.value, f, { dryRun: dry, skipInvalid: !dry && skipInvalid.value }, ac.signal)
      const rep = r.kind === 'report' ? r.report : await waitForJob(r.jobId, ac.signal)
      if (ac.signal.aborted) return null
      return rep
    } catch (e) {
      if (ac.signal.aborted || (e instanceof DOMException && e.name === 'AbortError')) return null
      error.value = e instanceof ApiError || !(e instanceof Error) ? importErrorMessage(e) : e.message || t.imports.jobFailed
      return null
    } finally {
      if (aborter === ac) aborter = null
    }
  }

  /** 校验: the dry run. */
  async function validate() {
    if (!file.value || busy.value) return
    state.value = 'validating'
    const rep = await run(true)
    if (state.value !== 'validating') return // closed or another file meanwhile
    if (!rep) {
      state.value = 'idle'
      return
    }
    dryRun.value = rep
    report.value = rep
    skipInvalid.value = false
    state.value = 'report'
  }

  /** 确认导入: the commit, skipping invalid rows when chosen. */
  async function commit() {
    if (!mayCommit.value) return
    state.value = 'committing'
    const rep = await run(false)
    if (state.value !== 'committing') return
    if (!rep) {
      state.value = 'report'
      return
    }
    report.value = rep
    state.value = 'done'
  }

  return { state, kind, file, fileError, error, report, dryRun, skipInvalid, progress, percent, jobId, busy, mayCommit, choose, setKind, validate, commit, reset, stop }
}

export type ImportFlow = ReturnType<typeof useImport>
