import { test, expect, loggedIn, apiAs } from './fixtures'

test('a stale edit is explained and the input survives the reload', async ({ page, request, shot }) => {
  await loggedIn(page, 'zhibu01')
  await page.goto('/members')
  const row = page.getByTestId('member-table').locator('tbody tr').nth(1)
  await row.getByRole('button', { name: '修改' }).click()
  await expect(page).toHaveURL(/\/members\/(\d+)\/edit/)
  const id = Number(/\/members\/(\d+)\/edit/.exec(page.url())![1])
  const myPhone = `136${String(Date.now()).slice(-8)}`
  const theirPost = `组织委员${Date.now() % 1000}`
  await page.getByTestId('field-phone').fill(myPhone)

  // Meanwhile someone else changes the post.
  const other = await apiAs(request, 'dangwei')
  const current = await other.get<{ version: number }>(`/members/${id}`)
  const r = await request.patch(`/api/v1/members/${id}`, {
    headers: { Authorization: (await loginToken(request)) },
    data: { post: theirPost, version: current.version },
  })
  expect(r.ok()).toBeTruthy()

  await page.getByTestId('member-save').click()
  const dialog = page.getByTestId('stale-dialog')
  await expect(dialog).toContainText('记录已被他人修改')
  await expect(dialog).toContainText(theirPost)
  await shot('stale-dialog')
  await page.getByTestId('stale-keep').click()
  await expect(page.getByTestId('field-phone')).toHaveValue(myPhone)
  await page.getByTestId('member-save').click()
  await expect(page.getByTestId('member-phone')).toHaveText(myPhone)
  await expect(page.getByTestId('member-detail')).toBeVisible()
  await expect(page.getByTestId('member-detail').page().getByText(theirPost)).toBeVisible()
})

async function loginToken(request: import('@playwright/test').APIRequestContext): Promise<string> {
  const r = await request.post('/api/v1/auth/login', { data: { username: 'dangwei', password: 'Demo-2026' } })
  return `Bearer ${((await r.json()) as { access_token: string }).access_token}`
}
