import { devices, type APIRequestContext } from '@playwright/test'
import { test, expect, loggedIn, login, pickOrg, menu, apiAs, isPhone, PASSWORD, ARTIFACTS } from './fixtures'

// Issue 6's browser test: a branch worker plans a meeting on a PC and shows its check-in QR code;
// a member scans it with a phone (390×844, a login of their own, sent through the login page and
// back); the PC sees the member present; the worker records the absences with reasons and the
// minutes, marks the meeting held and archives it; the archived record is read-only.
const BRANCH = '计算机学院教工第一党支部'
/** Six of the branch's candidates: a meeting of a realistic size whatever other tests imported. */
async function someCandidates(request: APIRequestContext, headers: Record<string, string>, orgId: number): Promise<number[]> {
  const r = await request.get(`/api/v1/meetings/attendee-candidates?org_id=${orgId}&kind=party_lecture`, { headers })
  expect(r.ok(), await r.text()).toBeTruthy()
  return ((await r.json()) as { person_id: number }[]).slice(0, 6).map((c) => c.person_id)
}
const PNG_1X1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='

test('a branch worker plans a meeting, a member checks in by phone, the record is archived', async ({ page, browser, request, shot }) => {
  test.setTimeout(180_000)
  const member = await apiAs(request, 'dangyuan')
  const me = await member.get<{ person: { id: number; name: string } }>('/me')
  const topic = `学习贯彻党的二十届四中全会精神 ${Date.now() % 100000}`

  // Plan it on the PC.
  await loggedIn(page, 'zhibu01')
  await menu(page, '会议记录')
  await expect(page).toHaveURL(/\/meetings/)
  await pickOrg(page, BRANCH)
  await expect(page).toHaveURL(/org_id=\d+/)
  await page.getByTestId('meeting-create').click()
  const dialog = page.getByTestId('meeting-form-dialog')
  await expect(dialog).toBeVisible()
  await dialog.getByTestId('field-kind').click()
  await page.locator('.el-select-dropdown__item:visible').filter({ hasText: /^支部党员大会$/ }).click()
  await dialog.getByTestId('field-topic').fill(topic)
  await dialog.getByTestId('item-starts-at').locator('input').click()
  await page.locator('.el-picker-panel:visible').getByRole('button', { name: '此刻' }).click()
  await dialog.getByTestId('field-place').fill('学院会议室 302')
  // The attendees come from the branch, all ticked. The meeting is kept to eight of them (the
  // import test may have put 12,000 members into this branch): the member and seven others.
  await expect(dialog.getByTestId('attendee-count')).toHaveText(/已选 [1-9]\d* 人/)
  await dialog.locator('.att-head').getByText('全选').click()
  await expect(dialog.getByTestId('attendee-count')).toHaveText(/已选 0 人/)
  const filter = dialog.getByTestId('attendee-filter')
  if (await filter.isVisible()) await filter.fill(me.person.name)
  await dialog.locator(`[data-person="${me.person.id}"]`).click()
  if (await filter.isVisible()) await filter.fill('')
  for (let i = 0; i < 7; i++) await dialog.locator('[data-testid=attendee-list] .att-item:not(.is-checked)').first().click()
  await expect(dialog.getByTestId('attendee-count')).toHaveText(/已选 8 人/)
  await shot('meeting-01-plan')
  await dialog.getByTestId('meeting-save').click()

  await expect(page).toHaveURL(/\/meetings\/\d+$/)
  const meetingId = Number(/\/meetings\/(\d+)$/.exec(page.url())![1])
  const detail = page.getByTestId('meeting-detail')
  await expect(detail).toHaveAttribute('data-status', 'planned')
  await expect(page.getByTestId('meeting-topic')).toHaveText(topic)
  await expect(page.getByTestId(`att-${me.person.id}`)).toHaveAttribute('data-state', 'pending')

  // The QR code panel: a code that changes every 30 s, a countdown, the count checked in.
  await page.getByTestId('meeting-qr').click()
  const qr = page.getByTestId('qr-code')
  await expect(qr.locator('img')).toBeVisible()
  await expect(qr).toHaveAttribute('data-code', /^\d+\.[A-Za-z0-9_-]+$/)
  await expect(page.getByTestId('qr-countdown')).toHaveText(/\d+ 秒后刷新/)
  await expect(page.getByTestId('qr-checked-count')).toHaveText(/已签到 0 \/ \d+ 人/)
  await shot('meeting-02-qr')
  const scanned = new URL((await qr.getAttribute('data-url'))!)
  expect(scanned.pathname).toBe('/checkin')
  expect(scanned.searchParams.get('m')).toBe(String(meetingId))

  // The member's phone: not logged in, so the login comes first and brings them back.
  const phone = await browser.newContext({
    ...devices['iPhone 13'],
    viewport: { width: 390, height: 844 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    baseURL: new URL(page.url()).origin,
  })
  const mobile = await phone.newPage()
  await mobile.goto(`${scanned.pathname}${scanned.search}`)
  await expect(mobile).toHaveURL(/\/login\?redirect=/)
  await mobile.locator('input[name=username]').fill('dangyuan')
  await mobile.locator('input[name=password]').fill(PASSWORD)
  await mobile.getByTestId('login-submit').click()
  await expect(mobile).toHaveURL(/\/checkin\?m=/)
  const card = mobile.getByTestId('checkin-card')
  await expect(card).toHaveAttribute('data-state', 'ok')
  await expect(mobile.getByTestId('checkin-message')).toHaveText('签到成功')
  await mobile.screenshot({ path: `${ARTIFACTS}/phone-meeting-03-checkin.png`, fullPage: true })
  const width = await mobile.evaluate(() => document.documentElement.scrollWidth)
  expect(width).toBeLessThanOrEqual(390)
  // The planned meeting reached the member's bell; the notice opens the record, their attendance in it.
  await expect(mobile.getByTestId('notification-badge')).toContainText(/\d+/)
  await mobile.getByTestId('notification-bell').click()
  const notice = mobile.getByTestId('notification-list').locator('[data-testid^=notification-]', { hasText: topic })
  await expect(notice).toContainText('会议通知：支部党员大会')
  await notice.click()
  await expect(mobile).toHaveURL(new RegExp(`/meetings/${meetingId}$`))
  await expect(mobile.getByTestId(`att-${me.person.id}`)).toHaveAttribute('data-state', 'present')
  await expect(mobile.getByTestId('attendance-save')).toHaveCount(0)
  // A forged code is refused with its own message.
  await mobile.goto(`/checkin?m=${meetingId}&c=${scanned.searchParams.get('c')!.split('.')[0]}.AAAAAAAAAAAAAAAAAAAAAA`)
  await expect(card).toHaveAttribute('data-state', 'fail')
  await expect(mobile.getByTestId('checkin-message')).toHaveText('二维码无效')
  await phone.close()

  // Back on the PC: the panel's count went up, and the attendance shows the member present.
  await expect(page.getByTestId('qr-checked-count')).toHaveText(/已签到 1 \/ \d+ 人/)
  await shot('meeting-04-qr-count')
  await page.getByTestId('qr-dialog').locator('.el-dialog__headerbtn').click()
  const row = page.getByTestId(`att-${me.person.id}`)
  await expect(row).toHaveAttribute('data-state', 'present')
  await expect(row).toContainText('扫码')

  // Everyone else present but two absent with reasons; an absence without a reason is refused here.
  await page.getByTestId('attendance-all-present').click()
  const ids: number[] = []
  for (const el of await page.locator('[data-testid=attendance-rows] > [data-name]').all()) {
    const name = await el.getAttribute('data-name')
    const tid = await el.getAttribute('data-testid')
    if (name !== me.person.name && tid) ids.push(Number(tid.replace('att-', '')))
    if (ids.length === 2) break
  }
  expect(ids).toHaveLength(2)
  await page.getByTestId(`att-absent-${ids[0]}`).click()
  await page.getByTestId('attendance-save').click()
  await expect(page.getByTestId(`att-${ids[0]}`)).toContainText('请选择缺席原因')
  await page.getByTestId(`att-reason-${ids[0]}`).click()
  await page.locator('.el-select-dropdown__item:visible').filter({ hasText: /^病假$/ }).click()
  // that list closed before the next opens (while it fades out, both show 公差)
  await expect(page.locator('.el-select-dropdown__item:visible')).toHaveCount(0)
  await page.getByTestId(`att-absent-${ids[1]}`).click()
  await page.getByTestId(`att-reason-${ids[1]}`).click()
  await page.locator('.el-select-dropdown__item:visible').filter({ hasText: /^公差$/ }).click()
  await page.getByTestId('attendance-save').click()
  await expect(page.getByTestId('attendance-counts')).toContainText('缺席 2 人，未登记 0 人')
  await expect(page.getByTestId(`att-${me.person.id}`)).toHaveAttribute('data-state', 'present')

  // The minutes and a resolution.
  await page.getByTestId('field-minutes').fill('一、传达学习全会精神；二、结合支部实际开展讨论；三、部署下一阶段学习安排。')
  await page.getByTestId('resolution-add').click()
  await page.getByTestId('field-resolution-0').fill('各党员于月底前提交学习心得')
  await page.getByTestId('minutes-save').click()
  await expect(page.getByTestId('minutes-save')).toBeDisabled()

  // Attachments: a photo is taken; a file that only claims to be a PNG is refused by its bytes.
  const input = page.getByTestId('attachment-input')
  await input.setInputFiles({ name: '会议照片.png', mimeType: 'image/png', buffer: Buffer.from(PNG_1X1, 'base64') })
  await expect(page.getByTestId('attachments-panel').locator('[data-testid^=attachment-]', { hasText: '会议照片.png' })).toBeVisible()
  await expect(page.getByTestId('attachments-panel').locator('img')).toBeVisible()
  await input.setInputFiles({ name: '伪装.png', mimeType: 'image/png', buffer: Buffer.from('not an image at all') })
  // (an earlier step's message may still be fading out: find this one by its file name)
  await expect(page.locator('.el-message--error', { hasText: '伪装.png' })).toBeVisible()
  await input.setInputFiles({ name: '说明.txt', mimeType: 'text/plain', buffer: Buffer.from('text') })
  await expect(page.locator('.el-message--error', { hasText: '说明.txt' })).toContainText('类型不支持')

  // Not archivable while planned; held, then archived.
  await expect(page.getByTestId('meeting-archive')).toBeDisabled()
  await page.getByTestId('meeting-mark-held').click()
  await page.locator('.el-message-box').getByRole('button', { name: '确定' }).click()
  await expect(detail).toHaveAttribute('data-status', 'held')
  await expect(page.getByTestId('meeting-archive')).toBeEnabled()

  // A vote with the quorum met (6 of the 8 present).
  await expect(page.getByTestId('quorum-tag')).toHaveText('已达到法定人数')
  await page.getByTestId('vote-add').click()
  const vote = page.getByTestId('vote-dialog')
  await vote.getByTestId('field-motion').fill('同意开展专题学习')
  // Everyone with a vote who is present says yes: passed, as the quorum was met.
  const present = /到会 (\d+) 人/.exec((await page.getByTestId('quorum-line').textContent()) ?? '')![1]!
  await vote.getByTestId('item-yes').locator('input').fill(present)
  await vote.getByTestId('vote-save').click()
  await expect(page.getByTestId('votes-panel').locator('[data-testid^=vote-]', { hasText: '同意开展专题学习' })).toContainText('通过')
  await shot('meeting-05-recorded')
  await page.getByTestId('meeting-archive').click()
  await page.locator('.el-message-box').getByRole('button', { name: '归档' }).click()

  // Read-only from now on: no save buttons, the note, and the addenda instead.
  await expect(detail).toHaveAttribute('data-archived', 'true')
  await expect(page.getByTestId('read-only-note')).toBeVisible()
  await expect(page.getByTestId('attendance-save')).toHaveCount(0)
  await expect(page.getByTestId('minutes-save')).toHaveCount(0)
  await expect(page.getByTestId('meeting-qr')).toHaveCount(0)
  await expect(page.getByTestId('minutes-text')).toContainText('传达学习全会精神')
  await expect(page.getByTestId('addenda-panel')).toBeVisible()
  await page.getByTestId('field-addendum-body').fill('补充：公差人员已于会后补学。')
  await page.getByTestId('addendum-file-input').setInputFiles({ name: '补学照片.png', mimeType: 'image/png', buffer: Buffer.from(PNG_1X1, 'base64') })
  await page.getByTestId('addendum-save').click()
  await expect(page.getByTestId('addenda-panel')).toContainText('已于会后补学')
  // A file reaches an archived record only with its addendum.
  await expect(page.getByTestId('addenda-panel')).toContainText('补学照片.png')
  await expect(page.getByTestId('attachments-panel')).toContainText('补学照片.png')
  await shot('meeting-06-archived')

  // The list shows it archived, with the member counted present.
  await menu(page, '会议记录')
  await page.getByTestId('meeting-q').fill(topic.split(' ')[1]!)
  await page.getByTestId('meeting-search-submit').click()
  const table = page.getByTestId('meeting-table')
  await expect(table.getByText(topic)).toBeVisible()
  await expect(table.locator('tr', { hasText: topic })).toContainText('已归档')
})

test('a member sees their meetings and study hours on a phone @phone', async ({ page, shot }) => {
  await login(page, 'dangyuan')
  await expect(page).toHaveURL(/\/workbench$/)
  await menu(page, '我的会议')
  await expect(page).toHaveURL(/\/my\/meetings$/)
  await expect(page.getByTestId('my-study-hours')).toHaveText(/^[\d.]+ \/ (32|56) 学时$/)
  await expect(page.getByTestId('my-study-progress')).toBeVisible()
  await shot('my-meetings')
  const width = await page.evaluate(() => document.documentElement.scrollWidth)
  expect(width).toBeLessThanOrEqual(page.viewportSize()!.width)
})

test('the meeting screens fit the screen, cards on a phone @phone', async ({ page, request, shot }) => {
  // A meeting of the branch to open, planned through the API.
  const r = await request.post('/api/v1/auth/login', { data: { username: 'zhibu01', password: PASSWORD } })
  const { access_token } = (await r.json()) as { access_token: string }
  const headers = { Authorization: `Bearer ${access_token}` }
  const me = (await (await request.get('/api/v1/me', { headers })).json()) as { grants: { org_id: number | null }[] }
  const orgId = me.grants[0]!.org_id!
  const startsAt = new Date(Date.now() + 3600_000).toISOString()
  const topic = `党课 ${Date.now() % 100000}`
  const attendeeIds = await someCandidates(request, headers, orgId)
  const created = await request.post('/api/v1/meetings', { headers, data: { org_id: orgId, kind: 'party_lecture', topic, starts_at: startsAt, place: '图书馆报告厅', status: 'planned', attendee_ids: attendeeIds } })
  expect(created.status(), await created.text()).toBe(201)
  const { id } = (await created.json()) as { id: number }

  await loggedIn(page, 'zhibu01')
  await menu(page, '会议记录')
  const list = page.getByTestId(isPhone(page) ? 'meeting-cards' : 'meeting-table')
  await expect(list).toContainText(topic)
  await shot('meetings-list')
  let width = await page.evaluate(() => document.documentElement.scrollWidth)
  expect(width).toBeLessThanOrEqual(page.viewportSize()!.width)

  await list.locator(`a[href="/meetings/${id}"]`).first().click()
  await expect(page).toHaveURL(new RegExp(`/meetings/${id}$`))
  await expect(page.getByTestId('attendance-rows')).toBeVisible()
  await shot('meeting-detail')
  width = await page.evaluate(() => document.documentElement.scrollWidth)
  expect(width).toBeLessThanOrEqual(page.viewportSize()!.width)

  await page.getByTestId('meeting-qr').click()
  await expect(page.getByTestId('qr-code').locator('img')).toBeVisible()
  await shot('meeting-qr')
})

test('a stale attendance save shows their change and keeps the clerk\'s input; the meeting info is edited', async ({ page, request }) => {
  const r = await request.post('/api/v1/auth/login', { data: { username: 'zhibu01', password: PASSWORD } })
  const { access_token } = (await r.json()) as { access_token: string }
  const headers = { Authorization: `Bearer ${access_token}` }
  const me = (await (await request.get('/api/v1/me', { headers })).json()) as { grants: { org_id: number | null }[] }
  const topic = `支委会 ${Date.now() % 100000}`
  const created = await request.post('/api/v1/meetings', {
    headers,
    data: { org_id: me.grants[0]!.org_id!, kind: 'party_lecture', topic, starts_at: new Date(Date.now() - 3600_000).toISOString(), status: 'held', attendee_ids: await someCandidates(request, headers, me.grants[0]!.org_id!) },
  })
  expect(created.status(), await created.text()).toBe(201)
  const m = (await created.json()) as { id: number; version: number; attendees: { person_id: number; name: string }[] }
  const [a, b] = m.attendees

  await loggedIn(page, 'zhibu01')
  await page.goto(`/meetings/${m.id}`)
  await expect(page.getByTestId('meeting-detail')).toHaveAttribute('data-status', 'held')
  // Someone else records A present meanwhile.
  const other = await request.put(`/api/v1/meetings/${m.id}/attendance`, { headers, data: { version: m.version, items: [{ person_id: a!.person_id, attendance: 'present' }] } })
  expect(other.ok(), await other.text()).toBeTruthy()

  await page.getByTestId(`att-absent-${b!.person_id}`).click()
  await page.getByTestId(`att-reason-${b!.person_id}`).click()
  await page.locator('.el-select-dropdown__item:visible').filter({ hasText: /^事假$/ }).click()
  await page.getByTestId('attendance-save').click()
  const stale = page.getByTestId('stale-dialog')
  // Their change is listed (A present); the clerk's own (B absent) stays in the form.
  await expect(stale).toContainText(a!.name)
  await page.getByTestId('stale-keep').click()
  await expect(page.getByTestId(`att-${a!.person_id}`)).toHaveAttribute('data-state', 'present')
  await expect(page.getByTestId(`att-${b!.person_id}`)).toHaveAttribute('data-state', 'absent')
  await page.getByTestId('attendance-save').click()
  await expect(page.getByTestId('attendance-counts')).toContainText('实到 1 人，缺席 1 人')

  // 修改会议信息: the place.
  await page.getByTestId('meeting-edit').click()
  const dialog = page.getByTestId('meeting-form-dialog')
  await dialog.getByTestId('field-place').fill('党员活动室')
  await dialog.getByTestId('meeting-save').click()
  await expect(page.getByTestId('meeting-detail')).toContainText('党员活动室')
})
