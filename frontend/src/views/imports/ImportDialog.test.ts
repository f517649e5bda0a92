import { beforeEach, describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { json, onFetch } from '@/test/setup'
import ImportDialog from './ImportDialog.vue'

const problems = Array.from({ length: 12 }, (_, i) => ({ row: 14 - i, column: i % 2 ? '出生日期' : '公民身份号码', code: 'x', message: `问题${14 - i}` }))
const dry = { import_id: 12, kind: 'members', dry_run: true, committed: false, rows_read: 20, created: 5, updated: 3, unchanged: 0, invalid: 12, problems }

async function settle() {
  for (let i = 0; i < 4; i++) {
    await flushPromises()
    await new Promise((r) => setTimeout(r, 10))
  }
}

function q(sel: string): HTMLElement | null {
  return document.querySelector(sel)
}

function click(sel: string) {
  const el = q(sel)
  if (!el) throw new Error(`no ${sel}`)
  el.click()
}

async function drop(file: File) {
  const input = q('[data-testid=import-dialog] input[type=file]') as HTMLInputElement
  Object.defineProperty(input, 'files', { value: [file], configurable: true })
  input.dispatchEvent(new Event('change'))
  await settle()
}

beforeEach(() => {
  document.body.innerHTML = ''
})

describe('import dialog', () => {
  it('validates, lists the problems by row (paged, filterable), commits with skip_invalid and says what it did', async () => {
    const calls: string[] = []
    onFetch((req) => {
      const u = new URL(req.url)
      calls.push(`${req.method} ${u.pathname}?${u.searchParams}`)
      return u.searchParams.get('dry_run') === 'true' ? json(dry) : json({ ...dry, import_id: 13, dry_run: false, committed: true, problems: dry.problems })
    })
    const w = mount(ImportDialog, { attachTo: document.body, global: { stubs: { transition: false } } })
    w.vm.open('members')
    await settle()
    expect(q('[data-testid=import-dialog]')?.textContent).toContain('导入党员')
    expect((q('[data-testid=import-validate]') as HTMLButtonElement).disabled).toBe(true)

    await drop(new File([new Uint8Array(10)], 'roster.pdf'))
    expect(q('[data-testid=import-file-error]')?.textContent).toContain('格式不支持')

    await drop(new File([new Uint8Array(10)], 'roster.xlsx'))
    expect(q('[data-testid=import-file]')?.textContent).toContain('roster.xlsx')
    click('[data-testid=import-validate]')
    await settle()

    expect(q('[data-testid=import-stat-invalid]')?.textContent).toContain('12')
    const table = q('[data-testid=import-problems]')!
    // Sorted by row, ten a page.
    expect(table.textContent).toContain('问题3')
    expect(table.textContent).not.toContain('问题14')
    expect(table.querySelectorAll('.el-table__body tr')).toHaveLength(10)
    expect(q('[data-testid=import-commit]')?.hasAttribute('disabled') || (q('[data-testid=import-commit]') as HTMLButtonElement).disabled).toBe(true)

    // Filter by row number.
    const filter = q('input[data-testid=import-problem-q], [data-testid=import-problem-q] input') as HTMLInputElement
    filter.value = '14'
    filter.dispatchEvent(new Event('input'))
    await settle()
    expect(q('[data-testid=import-problems]')!.querySelectorAll('.el-table__body tr')).toHaveLength(1)
    expect(q('[data-testid=import-problems]')!.textContent).toContain('问题14')

    click('[data-testid=import-skip] input')
    await settle()
    click('[data-testid=import-commit]')
    await settle()
    expect(q('[data-testid=import-done]')?.textContent).toContain('导入完成')
    expect(q('[data-testid=import-done]')?.textContent).toContain('新增 5 条，更新 3 条，跳过 12 条有误的行')
    expect(w.emitted('imported')).toEqual([['members']])
    expect(calls).toEqual(['POST /api/v1/imports/members?dry_run=true&skip_invalid=false', 'POST /api/v1/imports/members?dry_run=false&skip_invalid=true'])
    w.unmount()
  })
})

describe('import dialog, a commit blocked after all', () => {
  it('says nothing was written and does not tell the list to reload', async () => {
    onFetch((req) => {
      const dryRun = new URL(req.url).searchParams.get('dry_run') === 'true'
      const clean = { ...dry, invalid: 0, problems: [] }
      return json(dryRun ? clean : { ...dry, dry_run: false, committed: false, invalid: 1, problems: [problems[0]] })
    })
    const w = mount(ImportDialog, { attachTo: document.body, global: { stubs: { transition: false } } })
    w.vm.open('orgs')
    await settle()
    await drop(new File([new Uint8Array(10)], 'orgs.csv'))
    click('[data-testid=import-validate]')
    await settle()
    click('[data-testid=import-commit]')
    await settle()
    expect(q('[data-testid=import-done]')?.textContent).toContain('未写入任何数据')
    expect(q('[data-testid=import-done]')?.textContent).toContain('现有 1 行有误')
    expect(w.emitted('imported')).toBeUndefined()
    w.unmount()
  })
})
