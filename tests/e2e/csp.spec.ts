import { test, expect, loggedIn, menu, pickOrg } from './fixtures'
import type { Page } from '@playwright/test'

// The app runs under the server's Content-Security-Policy (backend/src/app.rs): every
// `securitypolicyviolation` the page reports, and every console error about the policy, is
// collected and must be none, on the main screens and in Swagger UI.
async function watchViolations(page: Page): Promise<string[]> {
  const seen: string[] = []
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`)
    })
  })
  page.on('console', (m) => {
    if (/Content Security Policy|CSP violation/i.test(m.text())) seen.push(m.text())
  })
  return seen
}

test('the app runs under its Content-Security-Policy with no violation', async ({ page }) => {
  const violations = await watchViolations(page)
  const res = await page.goto('/login')
  expect(res?.headers()['content-security-policy']).toContain("script-src 'self'")
  await loggedIn(page, 'duozhi')
  await expect(page.locator('[data-testid^=grant-card-]')).toHaveCount(3)
  await menu(page, '党员信息')
  await pickOrg(page, '计算机学院教工第一党支部')
  await expect(page.getByTestId('member-table').getByText('郑一鸣')).toBeVisible()
  await page.getByTestId('member-table').getByText('郑一鸣').click()
  await expect(page.getByTestId('member-detail')).toContainText('郑一鸣')
  await page.getByTestId('member-edit-btn').click()
  await expect(page.getByTestId('field-phone')).toBeVisible()
  await page.goto('/meetings')
  await page.waitForLoadState('networkidle')
  await page.goto('/dashboard')
  await page.waitForLoadState('networkidle')
  expect(violations).toEqual([])
})

test('Swagger UI at /api/docs runs under the policy', async ({ page }) => {
  const violations = await watchViolations(page)
  await page.goto('/api/docs/')
  await expect(page.locator('.swagger-ui .opblock').first()).toBeVisible()
  await page.locator('.swagger-ui .opblock-summary').first().click()
  await page.waitForLoadState('networkidle')
  expect(violations).toEqual([])
})
