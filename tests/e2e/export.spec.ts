import { readFileSync } from 'node:fs'
import { inflateRawSync } from 'node:zlib'
import { test, expect, loggedIn, apiAs } from './fixtures'

// 导出 (issue 5) in the browser against the real server: the member list narrowed by a drill-down
// link (as the dashboard makes them) and a search filter, exported with fewer columns through the
// dialog; the downloaded workbook is unzipped here and its rows counted against the list's total.

/** One entry of a zip file, inflated (the central directory gives sizes and offsets). */
function unzipEntry(zip: Buffer, name: string): Buffer {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]))
  expect(eocd, 'end of central directory').toBeGreaterThan(0)
  const entries = zip.readUInt16LE(eocd + 10)
  let p = zip.readUInt32LE(eocd + 16)
  for (let i = 0; i < entries; i++) {
    const method = zip.readUInt16LE(p + 10)
    const compressed = zip.readUInt32LE(p + 20)
    const nameLen = zip.readUInt16LE(p + 28)
    const extraLen = zip.readUInt16LE(p + 30)
    const commentLen = zip.readUInt16LE(p + 32)
    const local = zip.readUInt32LE(p + 42)
    const entryName = zip.subarray(p + 46, p + 46 + nameLen).toString('utf8')
    if (entryName === name) {
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28)
      const data = zip.subarray(start, start + compressed)
      return method === 0 ? data : inflateRawSync(data)
    }
    p += 46 + nameLen + extraLen + commentLen
  }
  throw new Error(`no ${name} in the zip`)
}

/** The sheet's text: its inline strings and, when the writer used one, the shared-string table. */
function sheetText(zip: Buffer): string {
  let shared = ''
  try {
    shared = unzipEntry(zip, 'xl/sharedStrings.xml').toString('utf8')
  } catch {
    /* inline strings only */
  }
  return unzipEntry(zip, 'xl/worksheets/sheet1.xml').toString('utf8') + shared
}

type Page1 = { total: number; items: { name: string }[] }

test('a committee worker exports the filtered member list with chosen columns and gets every row', async ({ page, request, shot }) => {
  const api = await apiAs(request, 'dangwei')
  const expected = await api.get<Page1>(`/members?gender=female&ethnic_group=han&page_size=1`)
  expect(expected.total).toBeGreaterThan(0)

  await loggedIn(page, 'dangwei')
  // A drill-down link, as the dashboard makes it; then a list filter on top.
  await page.goto('/members?ethnic_group=han')
  await expect(page.getByTestId('drill-ethnic_group')).toContainText('汉族')
  await page.locator('[data-testid=member-search] .el-form-item').filter({ hasText: '性别' }).locator('.el-select').click()
  await page.locator('.el-select-dropdown__item:visible').filter({ hasText: '女' }).click()
  await page.getByTestId('member-search-submit').click()
  await expect(page).toHaveURL(/gender=female/)
  await expect(page.getByTestId('member-total')).toContainText(String(expected.total))

  await page.getByTestId('member-export').click()
  const dialog = page.getByTestId('export-dialog')
  await expect(dialog.getByTestId('export-col-id_number')).toBeVisible()
  // Fewer columns: no ID number, no phone.
  await dialog.getByTestId('export-col-id_number').click()
  await dialog.getByTestId('export-col-phone').click()
  await shot('export-01-dialog')
  const download = page.waitForEvent('download')
  await dialog.getByTestId('export-start').click()
  const file = await download
  expect(file.suggestedFilename()).toMatch(/^党员花名册-.*\.xlsx$/)
  await expect(dialog.getByTestId('export-done')).toContainText('已导出')
  await shot('export-02-done')

  const bytes = readFileSync((await file.path())!)
  expect(bytes.subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 0x03, 0x04]))
  const sheet = unzipEntry(bytes, 'xl/worksheets/sheet1.xml').toString('utf8')
  const rows = sheet.match(/<row /g) ?? []
  expect(rows.length, 'the header and one row per member of the filtered list').toBe(expected.total + 1)
  // The header: 20 columns, without the two left out.
  const text = sheetText(bytes)
  expect(text).toContain('姓名')
  expect(text).not.toContain('公民身份号码')
  expect(text).not.toContain('手机号码')
  const firstRow = /<row [^>]*>(.*?)<\/row>/s.exec(sheet)![1]!
  expect((firstRow.match(/<c /g) ?? []).length).toBe(20)
  // The watermark: who exported it, 内部资料, in the page header and footer.
  expect(sheet).toContain('dangwei')
  expect(sheet).toContain('内部资料')
})

test('a branch worker exports the org list of its scope', async ({ page }) => {
  await loggedIn(page, 'zhibu01')
  await page.goto('/orgs')
  await page.getByTestId('org-export').click()
  const dialog = page.getByTestId('export-dialog')
  await expect(dialog).toContainText('导出党组织名册')
  const download = page.waitForEvent('download')
  await dialog.getByTestId('export-start').click()
  const file = await download
  expect(file.suggestedFilename()).toMatch(/^党组织名册-.*\.xlsx$/)
  const bytes = readFileSync((await file.path())!)
  const sheet = unzipEntry(bytes, 'xl/worksheets/sheet1.xml').toString('utf8')
  expect((sheet.match(/<row /g) ?? []).length).toBeGreaterThan(1)
})

test('drill-down filters from a dashboard link show as tags and close one by one', async ({ page }) => {
  await loggedIn(page, 'dangwei')
  await page.goto('/members?education=%E5%A4%A7%E5%AD%A6%E6%9C%AC%E7%A7%91&missing=phone')
  await expect(page.getByTestId('drill-education')).toContainText('学历：大学本科')
  await expect(page.getByTestId('drill-missing')).toContainText('缺少手机号码')
  await page.getByTestId('drill-missing').locator('.el-tag__close').click()
  await expect(page).not.toHaveURL(/missing=/)
  await expect(page).toHaveURL(/education=/)
  await expect(page.getByTestId('drill-missing')).toHaveCount(0)
})
