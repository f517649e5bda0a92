import { test, expect, loggedIn, apiAs, pickOrg } from './fixtures'

type Page_ = { items: { id: number; name: string; org_id: number; org_name: string }[]; total: number }

// A branch worker sees their branch only (docs/api.md, Roles and scope).
test('a branch worker does not see another branch', async ({ page, request, shot }) => {
  const other = await apiAs(request, 'zhibu02')
  const theirs = await other.get<Page_>('/members?page_size=1')
  const stranger = theirs.items[0]!

  await loggedIn(page, 'zhibu01')
  await page.goto('/members')
  const table = page.getByTestId('member-table')
  await expect(table.locator('tbody tr').first()).toBeVisible()
  await expect(table).not.toContainText('计算机学院教工第二党支部')

  // The tree holds only the worker's own branch.
  const tree = page.locator('aside.side').getByTestId('org-tree')
  await expect(tree).toContainText('计算机学院教工第一党支部')
  await expect(tree).not.toContainText('计算机学院教工第二党支部')

  // Searching for a member of the other branch finds nobody.
  await page.getByTestId('member-q').fill(stranger.name)
  await page.getByTestId('member-search-submit').click()
  await expect(page.getByTestId('member-total')).toHaveText('共 0 名党员')

  // Opening their record directly is refused, with the reason.
  await page.goto(`/members/${stranger.id}`)
  await expect(page.getByText('该记录属于您当前角色管理范围之外的组织')).toBeVisible()
  await shot('scope-refused')

  // The org search does not reach outside the scope either.
  await page.goto('/orgs')
  await page.locator('aside.side').getByTestId('org-search').fill('教工第二')
  await expect(page.locator('aside.side').getByTestId('org-search-results')).toContainText('没有匹配的组织')
})

test('buttons follow the role: a branch worker may edit a party group but not move it', async ({ page }) => {
  await loggedIn(page, 'zhibu01')
  await page.goto('/orgs')
  await pickOrg(page, '第一党小组')
  await expect(page.getByTestId('org-detail')).toContainText('第一党小组')
  await expect(page.getByTestId('org-edit')).toBeVisible()
  await expect(page.getByTestId('org-move-btn')).toHaveCount(0)
})
