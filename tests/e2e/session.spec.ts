import { test, expect, login, loggedIn, PASSWORD } from './fixtures'

test('a wrong password is explained; a reload keeps the login; logout ends it', async ({ page, shot }) => {
  await login(page, 'zhibu02', 'wrong-password')
  await expect(page.getByTestId('login-error')).toContainText('用户名或密码错误')
  await shot('login-wrong-password')

  await loggedIn(page, 'zhibu02')
  await page.reload()
  await expect(page).toHaveURL(/\/workbench$/)
  await expect(page.getByTestId('role-switcher')).toContainText('计算机学院教工第二党支部')

  // An access token the server refuses is replaced with the refresh token, unnoticed.
  await page.evaluate(() => {
    const t = JSON.parse(localStorage.getItem('dangjian.tokens')!)
    t.access = 'garbage'
    localStorage.setItem('dangjian.tokens', JSON.stringify(t))
  })
  await page.reload()
  await expect(page).toHaveURL(/\/workbench$/)
  await expect(page.locator('[data-testid^=grant-card-]')).toHaveCount(1)

  await page.getByTestId('user-menu').click()
  await page.getByTestId('logout').click()
  await page.getByRole('button', { name: '确定' }).click()
  await expect(page).toHaveURL(/\/login/)
  await page.goto('/members')
  await expect(page).toHaveURL(/\/login\?redirect=/)
})

test('an expired login asks for the password and keeps the form in hand', async ({ page }) => {
  await loggedIn(page, 'zhibu01')
  await page.goto('/members')
  await page.getByTestId('member-table').locator('tbody tr').first().getByRole('button', { name: '修改' }).click()
  const phone = page.getByTestId('field-phone')
  await expect(phone).not.toHaveValue('')
  const newPhone = `137${String(Date.now()).slice(-8)}`
  await phone.fill(newPhone)

  // The server now says the access token expired and the refresh token is spent.
  let expired = true
  await page.route('**/api/v1/members/*', async (route) => {
    if (expired && route.request().method() === 'PATCH') {
      expired = false
      return route.fulfill({ status: 401, contentType: 'application/problem+json', body: JSON.stringify({ type: 'x', title: '', title_zh: '登录已过期', status: 401, code: 'token_expired' }) })
    }
    return route.continue()
  })
  await page.route('**/api/v1/auth/refresh', (route) =>
    route.fulfill({ status: 401, contentType: 'application/problem+json', body: JSON.stringify({ type: 'x', title: '', title_zh: '会话已结束', status: 401, code: 'invalid_refresh_token' }) }),
  )
  await page.getByTestId('member-save').click()
  const dialog = page.getByTestId('relogin-dialog')
  await expect(dialog).toBeVisible()
  await expect(phone).toHaveValue(newPhone)
  await dialog.locator('input[type=password]').fill(PASSWORD)
  await dialog.getByRole('button', { name: '重新登录' }).click()
  await expect(page.getByTestId('member-phone')).toHaveText(newPhone)
})
