import { test, expect, loggedIn, pickOrg } from './fixtures'

test('the org tree loads lazily, finds by code, creates, edits and explains a refused move', async ({ page, shot }) => {
  await loggedIn(page, 'dangwei')
  await page.goto('/orgs')
  const side = page.locator('aside.side')
  await expect(side.getByTestId('org-tree')).toContainText('示范大学党委')
  await expect(page.getByTestId('org-detail')).toContainText('示范大学党委')

  // Search by code.
  await side.getByTestId('org-search').fill('D01-01-01')
  await expect(side.getByTestId('org-search-results')).toContainText('计算机学院教工第一党支部')
  await side.getByTestId('org-search-results').getByText('计算机学院教工第一党支部', { exact: true }).click()
  await expect(page.getByTestId('org-detail')).toContainText('计算机学院教工第一党支部')
  // The tree opened down to it.
  await expect(side.locator('.el-tree-node.is-current')).toContainText('计算机学院教工第一党支部')
  await shot('orgs-detail')

  // Create a party group under the branch, then rename it.
  const code = `E2E-${Date.now() % 100000}`
  await page.getByTestId('org-add-child').click()
  const form = page.getByTestId('org-form')
  await form.getByLabel('组织名称').fill('测试党小组')
  await form.getByLabel('组织编码').fill(code)
  await shot('orgs-create')
  await page.getByTestId('org-form-save').click()
  await expect(page.getByTestId('org-detail')).toContainText('测试党小组')
  await page.getByTestId('org-edit').click()
  await form.getByLabel('组织名称').fill('测试党小组（改）')
  await page.getByTestId('org-form-save').click()
  await expect(page.getByTestId('org-detail')).toContainText('测试党小组（改）')

  // A duplicate code is shown beside the code field.
  await pickOrg(page, '计算机学院教工第一党支部')
  await page.getByTestId('org-add-child').click()
  await form.getByLabel('组织名称').fill('重复编码')
  await form.getByLabel('组织编码').fill(code)
  await page.getByTestId('org-form-save').click()
  await expect(form.locator('.el-form-item.is-error')).toContainText('组织编码已被其他组织使用')
  await form.getByRole('button', { name: '取消' }).click()

  // Moving a branch under a party group is refused, and the dialog says why.
  await page.getByTestId('org-move-btn').click()
  const move = page.getByTestId('org-move')
  await move.getByTestId('org-search').fill(code)
  await move.getByTestId('org-search-results').getByText('测试党小组（改）').click()
  await page.getByTestId('move-submit').click()
  await expect(page.getByTestId('move-refusal')).toContainText('无法移动')
  await shot('orgs-move-refused')
})
