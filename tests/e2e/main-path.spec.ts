import { test, expect, loggedIn, pickOrg, menu, isPhone, apiAs } from './fixtures'

// The path, on a PC and on a phone (@phone): log in, switch role, pick a branch in the
// tree, find a member by pinyin initials, edit the phone, see the change after a reload.
test('a branch secretary finds a member by pinyin initials and edits the phone @phone', async ({ page, shot }) => {
  await page.goto('/login')
  await shot('01-login')
  await loggedIn(page, 'duozhi')

  // Three grants: the workbench shows a card for each, with to-dos for all of them.
  await expect(page.locator('[data-testid^=grant-card-]')).toHaveCount(3)
  await expect(page.getByTestId('stat-members').first()).toHaveText(/^\d+$/)
  await shot('02-workbench')

  // Switch to the branch role: the menu and the data scope follow.
  await page.getByTestId('role-switcher').click()
  await page.getByRole('menuitem', { name: /党支部工作者/ }).click()
  await expect(page.getByTestId('role-switcher')).toContainText(isPhone(page) ? '支部' : '党支部工作者')
  await shot('03-role-switched')

  await menu(page, '党员信息')
  await expect(page).toHaveURL(/\/members/)
  await pickOrg(page, '计算机学院教工第一党支部')
  await expect(page).toHaveURL(/org_id=\d+/)

  // Search by pinyin initials: 郑一鸣 → zym.
  if (isPhone(page)) await page.getByTitle('显示搜索').click()
  await page.getByTestId('member-q').fill('zym')
  await page.getByTestId('member-search-submit').click()
  await expect(page).toHaveURL(/q=zym/)
  const list = isPhone(page) ? page.getByTestId('member-cards') : page.getByTestId('member-table')
  await expect(list.getByText('郑一鸣')).toBeVisible()
  await expect(page.getByTestId('watermark')).toHaveAttribute('data-text', /duozhi \d{4}-\d{2}-\d{2}/)
  await shot('04-members')

  await list.getByText('郑一鸣').click()
  await expect(page.getByTestId('member-detail')).toContainText('郑一鸣')
  await shot('05-member-detail')

  await page.getByTestId('member-edit-btn').click()
  const phone = page.getByTestId('field-phone')
  await expect(phone).not.toHaveValue('')
  const newPhone = `139${String(Date.now()).slice(-8)}`
  await phone.fill(newPhone)
  await shot('06-member-edit')
  await page.getByTestId('member-save').click()
  await expect(page.getByTestId('member-phone')).toHaveText(newPhone)

  await page.reload()
  await expect(page.getByTestId('member-phone')).toHaveText(newPhone)
  // The role chosen survives the reload too.
  await expect(page.getByTestId('role-switcher')).toContainText(isPhone(page) ? '支部' : '党支部工作者')

  // Nothing sideways: every screen fits the width.
  const width = await page.evaluate(() => document.documentElement.scrollWidth)
  expect(width).toBeLessThanOrEqual(page.viewportSize()!.width)
})

test('the screens fit a phone without sideways scrolling @phone', async ({ page, request, shot }) => {
  const admin = await apiAs(request, 'admin')
  const m = await admin.get<{ items: { id: number }[] }>('/members?page_size=1')
  await loggedIn(page, 'dangwei')
  for (const [path, name] of [['/workbench', 'fit-workbench'], ['/orgs', 'fit-orgs'], ['/members', 'fit-members'], [`/members/${m.items[0]!.id}`, 'fit-detail'], [`/members/${m.items[0]!.id}/edit`, 'fit-edit']] as const) {
    await page.goto(path)
    await page.waitForLoadState('networkidle')
    const width = await page.evaluate(() => document.documentElement.scrollWidth)
    expect(width, path).toBeLessThanOrEqual(page.viewportSize()!.width)
    await shot(name)
  }
})
