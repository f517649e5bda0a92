import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test, expect, loggedIn, menu, isPhone } from './fixtures'

// Issue 4's import screen in the browser, against the real server: 下载模板, upload a small XLSX
// (written by openpyxl: tests/e2e/fixtures/make_import_fixture.py) with one bad row, see the dry run's
// report name that row, commit with 跳过错误行, find the new member in the list and the import in
// 导入记录.
const FIXTURE = join(__dirname, 'fixtures', 'import-members.xlsx')

test('a branch worker downloads the template, validates a file, skips the bad row and imports the rest', async ({ page, shot }) => {
  await loggedIn(page, 'zhibu01')
  await menu(page, '党员信息')
  await page.getByTestId('member-import').click()
  const dialog = page.getByTestId('import-dialog')
  await expect(dialog).toContainText('导入党员')

  // 下载模板: an XLSX (a zip) with a Chinese file name.
  const download = page.waitForEvent('download')
  await page.getByTestId('import-template').click()
  const template = await download
  expect(template.suggestedFilename()).toMatch(/\.xlsx$/)
  const bytes = readFileSync((await template.path())!)
  expect(bytes.subarray(0, 2).toString()).toBe('PK')
  await shot('import-01-dialog')

  await dialog.locator('input[type=file]').setInputFiles(FIXTURE)
  await expect(page.getByTestId('import-file')).toContainText('import-members.xlsx')
  await page.getByTestId('import-validate').click()

  // The dry run: one row to create, one invalid (row 3: the ID's checksum), nothing written yet.
  await expect(page.getByTestId('import-stat-created')).toContainText('1')
  await expect(page.getByTestId('import-stat-invalid')).toContainText('1')
  const problems = page.getByTestId('import-problems')
  await expect(problems).toContainText('3')
  await expect(problems).toContainText('公民身份号码')
  await expect(page.getByTestId('import-commit')).toBeDisabled()
  await shot('import-02-report')

  // The same report as the uploaded workbook with an error column.
  const annotated = page.waitForEvent('download')
  await page.getByTestId('import-annotated').click()
  const marked = await annotated
  expect(marked.suggestedFilename()).toMatch(/\.xlsx$/)
  expect(readFileSync((await marked.path())!).subarray(0, 2).toString()).toBe('PK')

  // 跳过错误行 → 确认导入.
  await page.getByTestId('import-skip').click()
  await page.getByTestId('import-commit').click()
  await expect(page.getByTestId('import-done')).toContainText('导入完成')
  await expect(page.getByTestId('import-done')).toContainText('新增 1 条')
  await shot('import-03-done')
  await page.getByTestId('import-finish').click()

  // The member is in the list; the bad row's person is not.
  await page.getByTestId('member-q').fill('导入测试')
  await page.getByTestId('member-search-submit').click()
  const list = page.getByTestId('member-table')
  await expect(list.getByText('导入测试甲')).toBeVisible()
  await expect(list.getByText('导入测试乙')).toHaveCount(0)

  // 导入记录: the dry run and the commit, newest first, with the report behind each.
  await menu(page, '导入记录')
  const rows = page.getByTestId('imports-table').locator('.el-table__body tr')
  await expect(rows.first()).toContainText('import-members.xlsx')
  await expect(rows.first()).toContainText('已写入')
  await expect(rows.nth(1)).toContainText('仅校验')
  await rows.first().getByText('查看报告').click()
  await expect(page.getByTestId('import-view-dialog').getByTestId('import-problems')).toContainText('公民身份号码')
  await shot('import-04-history')
})

test('the import report fits a phone: problems as cards, nothing sideways @phone', async ({ page, shot }) => {
  await loggedIn(page, 'zhibu01')
  await menu(page, '导入记录')
  await page.getByTestId('imports-new-members').click()
  await page.getByTestId('import-dialog').locator('input[type=file]').setInputFiles(FIXTURE)
  await page.getByTestId('import-validate').click()
  await expect(page.getByTestId('import-stat-invalid')).toContainText('1')
  if (isPhone(page)) await expect(page.getByTestId('import-problems').locator('.pcard')).toHaveCount(1)
  const width = await page.evaluate(() => document.documentElement.scrollWidth)
  expect(width).toBeLessThanOrEqual(page.viewportSize()!.width)
  await shot('import-report-fit')
})

test('org import from 党组织: its own template, and a file that is not a spreadsheet is refused in Chinese', async ({ page, shot }) => {
  await loggedIn(page, 'dangwei')
  await page.goto('/orgs')
  await page.getByTestId('org-import').click()
  const dialog = page.getByTestId('import-dialog')
  await expect(dialog).toContainText('导入党组织')

  const download = page.waitForEvent('download')
  await page.getByTestId('import-template').click()
  expect((await download).suggestedFilename()).toMatch(/\.xlsx$/)

  // Refused before upload: the wrong extension.
  await dialog.locator('input[type=file]').setInputFiles({ name: '组织.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4') })
  await expect(page.getByTestId('import-file-error')).toContainText('文件格式不支持')
  await expect(page.getByTestId('import-validate')).toBeDisabled()

  // Refused by the server: named .xlsx, but not a workbook (problem+json, shown in Chinese).
  await dialog.locator('input[type=file]').setInputFiles({ name: '组织.xlsx', mimeType: 'application/octet-stream', buffer: Buffer.from('这不是表格文件') })
  await page.getByTestId('import-validate').click()
  await expect(page.getByTestId('import-error')).toBeVisible()
  await expect(page.getByTestId('import-error')).toContainText(/[\u4e00-\u9fa5]/)
  await shot('import-05-refused')
})

// A file of 1 MB or more runs as a background job on the server (202 {job_id}): the dialog shows
// the job's progress bar and then the same report, and the commit is a job too. The CSV is made
// here: 12,000 new members with valid ID numbers in 计算机学院教工第一党支部.
const W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const C = '10X98765432'
function idNumber(birth: Date, seq: number, male: boolean): string {
  const ymd = birth.toISOString().slice(0, 10).replaceAll('-', '')
  const body = `110105${ymd}${String(seq * 2 + (male ? 1 : 0)).padStart(3, '0')}`
  const sum = [...body].reduce((acc, d, i) => acc + Number(d) * W[i]!, 0)
  return body + C[sum % 11]
}
function bigRoster(rows: number): Buffer {
  const lines = ['外部编号,姓名,性别,公民身份号码,民族,出生日期,学历,人员类别,所在党组织,入党日期,转正日期,手机号码,党籍状态']
  for (let i = 0; i < rows; i++) {
    const birth = new Date(Date.UTC(1960, 0, 1) + (i % 12000) * 86_400_000)
    const male = i % 2 === 0
    const joined = `${birth.getUTCFullYear() + 25}-07-01`
    const full = `${birth.getUTCFullYear() + 26}-07-01`
    lines.push(
      `E2E-JOB-${i},大批导入${i},${male ? '男' : '女'},${idNumber(birth, 60 + Math.floor(i / 12000), male)},汉族,${birth.toISOString().slice(0, 10)},大学本科,正式党员,计算机学院教工第一党支部,${joined},${full},137${String(i).padStart(8, '0')},正常`,
    )
  }
  return Buffer.from(lines.join('\n') + '\n', 'utf8')
}

test('a large file runs as a job: a progress bar, then the report, then a commit as a job', async ({ page, shot }) => {
  test.setTimeout(120_000)
  const csv = bigRoster(12_000)
  expect(csv.length).toBeGreaterThan(1024 * 1024)
  await loggedIn(page, 'zhibu01')
  await menu(page, '导入记录')
  await page.getByTestId('imports-new-members').click()
  const jobs: number[] = []
  page.on('response', (r) => {
    if (r.url().includes('/api/v1/imports/members') && r.request().method() === 'POST') jobs.push(r.status())
  })
  await page.getByTestId('import-dialog').locator('input[type=file]').setInputFiles({ name: 'big-roster.csv', mimeType: 'text/csv', buffer: csv })
  await page.getByTestId('import-validate').click()
  await expect(page.getByTestId('import-progress')).toBeVisible()
  await shot('import-job-progress')
  await expect(page.getByTestId('import-stat-created')).toContainText('12000', { timeout: 60_000 })
  await expect(page.getByTestId('import-stat-invalid')).toContainText('0')
  await page.getByTestId('import-commit').click()
  await expect(page.getByTestId('import-done')).toContainText('新增 12000 条', { timeout: 60_000 })
  expect(jobs).toEqual([202, 202])
  await shot('import-job-done')
})
