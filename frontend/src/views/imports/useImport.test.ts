import { describe, expect, it } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { json, onFetch, problem, requests } from '@/test/setup'
import { checkFile, importErrorMessage, useImport } from './useImport'
import { fileNameOf } from '@/api/imports'
import { ApiError } from '@/api/errors'

const report = (over: Record<string, unknown> = {}) => ({
  import_id: 12, kind: 'members', dry_run: true, committed: false, rows_read: 3, created: 1, updated: 1, unchanged: 0, invalid: 1,
  problems: [{ row: 4, column: '公民身份号码', code: 'id_number_checksum', message: '公民身份号码校验位错误' }],
  ...over,
})

function xlsx(name = '党员.xlsx', bytes = 10): File {
  return new File([new Uint8Array(bytes)], name, { type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' })
}

const until = async (cond: () => boolean, ms = 2000) => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 5))
    await flushPromises()
  }
}

describe('file checks', () => {
  it('takes spreadsheets and refuses other files, empty ones and those over the limit', () => {
    expect(checkFile({ name: 'a.XLSX', size: 10 })).toBeNull()
    expect(checkFile({ name: 'a.csv', size: 10 })).toBeNull()
    expect(checkFile({ name: 'a.ods', size: 10 })).toBeNull()
    expect(checkFile({ name: 'a.pdf', size: 10 })).toContain('格式不支持')
    expect(checkFile({ name: 'a.xls', size: 0 })).toContain('空')
    expect(checkFile({ name: 'a.xls', size: 25 * 1024 * 1024 }, 20 * 1024 * 1024)).toBe('文件过大（25.0 MB），不能超过 20.0 MB。请分成几个文件导入')
  })

  it('a refused file never reaches the server and leaves nothing chosen', async () => {
    const f = useImport()
    expect(f.choose(xlsx('名单.docx'))).toBe(false)
    expect(f.file.value).toBeNull()
    expect(f.fileError.value).toContain('格式不支持')
    await f.validate()
    expect(requests).toHaveLength(0)
    expect(f.state.value).toBe('idle')
  })

  it('reads the file name of a download, UTF-8 first', () => {
    expect(fileNameOf(`attachment; filename="import-1.xlsx"; filename*=UTF-8''%E5%85%9A%E5%91%98.xlsx`)).toBe('党员.xlsx')
    expect(fileNameOf('attachment; filename="a.xlsx"')).toBe('a.xlsx')
    expect(fileNameOf(null)).toBeNull()
  })
})

describe('import flow', () => {
  it('idle → validating → report → committing → done, with the same file and skip_invalid', async () => {
    const seen: { url: URL; file: File | null }[] = []
    onFetch(async (req) => {
      const url = new URL(req.url)
      const form = await req.formData()
      seen.push({ url, file: form.get('file') as File | null })
      const dry = url.searchParams.get('dry_run') === 'true'
      return json(dry ? report() : report({ dry_run: false, committed: true, import_id: 13 }))
    })
    const f = useImport()
    expect(f.choose(xlsx('roster.xlsx'))).toBe(true)
    const p = f.validate()
    expect(f.state.value).toBe('validating')
    expect(f.busy.value).toBe(true)
    await p
    expect(f.state.value).toBe('report')
    expect(f.dryRun.value?.invalid).toBe(1)
    // An invalid row blocks the commit until the user chooses to skip it.
    expect(f.mayCommit.value).toBe(false)
    await f.commit()
    expect(seen).toHaveLength(1)
    f.skipInvalid.value = true
    expect(f.mayCommit.value).toBe(true)
    const c = f.commit()
    expect(f.state.value).toBe('committing')
    await c
    expect(f.state.value).toBe('done')
    expect(f.report.value?.committed).toBe(true)
    expect(seen).toHaveLength(2)
    expect(seen[0]!.url.pathname).toBe('/api/v1/imports/members')
    expect(seen[0]!.url.searchParams.get('dry_run')).toBe('true')
    expect(seen[0]!.url.searchParams.get('skip_invalid')).toBe('false')
    expect(seen[1]!.url.searchParams.get('dry_run')).toBe('false')
    expect(seen[1]!.url.searchParams.get('skip_invalid')).toBe('true')
    expect(seen[1]!.file?.name).toBe('roster.xlsx') // the same file again (happy-dom mangles non-ASCII names in forms)
  })

  it('a clean file commits without skipping; nothing to write means nothing to commit', async () => {
    onFetch(() => json(report({ invalid: 0, problems: [], created: 0, updated: 0, unchanged: 3 })))
    const f = useImport({ kind: 'orgs' })
    f.choose(xlsx('组织.csv'))
    await f.validate()
    expect(new URL(requests[0]!.url).pathname).toBe('/api/v1/imports/orgs')
    expect(f.state.value).toBe('report')
    expect(f.mayCommit.value).toBe(false) // all unchanged: the second run of the same file
  })

  it('fix and retry: another file goes back to idle and forgets the old report', async () => {
    onFetch(() => json(report()))
    const f = useImport()
    f.choose(xlsx())
    await f.validate()
    expect(f.state.value).toBe('report')
    f.choose(xlsx('党员-改.xlsx'))
    expect(f.state.value).toBe('idle')
    expect(f.dryRun.value).toBeNull()
    expect(f.skipInvalid.value).toBe(false)
    expect(f.file.value?.name).toBe('党员-改.xlsx')
  })

  it('a problem+json answer is shown in Chinese and the flow goes back one step', async () => {
    onFetch(() => problem(413, 'payload_too_large', { title_zh: '请求内容过大', detail_zh: '文件不能超过 20 MB，请拆分后分批导入' }))
    const f = useImport()
    f.choose(xlsx())
    await f.validate()
    expect(f.state.value).toBe('idle')
    expect(f.error.value).toBe('文件不能超过 20 MB，请拆分后分批导入')

    // A commit refused (the dry run was fine): the report stays, with the error above it.
    let n = 0
    onFetch(() => (n++ === 0 ? json(report({ invalid: 0, problems: [] })) : problem(422, 'validation_failed', { title_zh: '数据有误', detail_zh: '有 1 行有误，未写入任何数据' })))
    await f.validate()
    expect(f.state.value).toBe('report')
    await f.commit()
    expect(f.state.value).toBe('report')
    expect(f.error.value).toBe('有 1 行有误，未写入任何数据')
  })

  it('maps bare statuses when the server sent no zh detail', () => {
    expect(importErrorMessage(new ApiError({ status: 413, code: 'unknown' }))).toContain('文件过大')
    expect(importErrorMessage(new ApiError({ status: 415, code: 'unknown' }))).toContain('格式不支持')
    expect(importErrorMessage(new ApiError({ status: 422, code: 'unknown' }))).toContain('无法读取')
    expect(importErrorMessage(new ApiError({ status: 0, code: 'network' }))).toContain('无法连接服务器')
  })

  it('a large file runs as a job: polls with progress, then shows the result as the report', async () => {
    let polls = 0
    onFetch((req) => {
      const path = new URL(req.url).pathname
      if (req.method === 'POST') return json({ job_id: 42 }, 202)
      expect(path).toBe('/api/v1/jobs/42')
      polls++
      if (polls === 1) return json({ id: 42, kind: 'import', status: 'queued', progress: null, result: null, error: null })
      if (polls === 2) return json({ id: 42, kind: 'import', status: 'running', progress: { done: 1200, total: 5000 }, result: null, error: null })
      return json({ id: 42, kind: 'import', status: 'succeeded', progress: { done: 5000, total: 5000 }, result: report({ rows_read: 5000 }), error: null })
    })
    const f = useImport({ pollMs: 10 })
    f.choose(xlsx('大名册.xlsx', 1000))
    const p = f.validate()
    await until(() => f.jobId.value === 42)
    expect(f.percent.value).toBeNull() // queued: an indeterminate bar
    await until(() => f.progress.value?.done === 1200)
    expect(f.percent.value).toBe(24)
    expect(f.state.value).toBe('validating')
    await p
    expect(f.state.value).toBe('report')
    expect(f.dryRun.value?.rows_read).toBe(5000)
    expect(polls).toBe(3)
  })

  it('a failed job says why and nothing was written', async () => {
    onFetch((req) => (req.method === 'POST' ? json({ job_id: 7 }, 202) : json({ id: 7, kind: 'import', status: 'failed', progress: null, result: null, error: '数据库连接中断' })))
    const f = useImport({ pollMs: 5 })
    f.choose(xlsx())
    await f.validate()
    expect(f.state.value).toBe('idle')
    expect(f.error.value).toBe('导入任务失败，数据未写入：数据库连接中断')
  })

  it('closing the dialog stops polling', async () => {
    let polls = 0
    onFetch((req) => {
      if (req.method === 'POST') return json({ job_id: 9 }, 202)
      polls++
      return json({ id: 9, kind: 'import', status: 'running', progress: { done: polls, total: 100 }, result: null, error: null })
    })
    const f = useImport({ pollMs: 10 })
    f.choose(xlsx())
    const p = f.validate()
    await until(() => polls >= 2)
    f.reset()
    await p
    const seen = polls
    await new Promise((r) => setTimeout(r, 60))
    expect(polls).toBe(seen)
    expect(f.state.value).toBe('idle')
    expect(f.error.value).toBe('')
  })
})
