import { describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import { json, onFetch, problem, requests } from '@/test/setup'
import { setTokens } from '@/api/session'
import { useAuthStore } from '@/stores/auth'
import CheckinView from './CheckinView.vue'

// A secretary acting as branch scans a code: the check-in goes out as their member grant.
async function mountAt(path: string) {
  const pinia = createPinia()
  setActivePinia(pinia)
  setTokens({ access_token: 'a', refresh_token: 'r', token_type: 'Bearer', expires_in: 900 })
  const auth = useAuthStore()
  auth.me = {
    account: { id: 5, username: 'duozhi' },
    person: { id: 101, name: '张三' },
    grants: [
      { id: 7, role: 'branch', org_id: 3, org_name: '第一党支部', org_code: 'B1' },
      { id: 8, role: 'member', org_id: 3, org_name: '第一党支部', org_code: 'B1' },
    ],
  }
  auth.actingGrantId = 7
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/checkin', name: 'checkin', component: CheckinView },
      { path: '/meetings/:id', component: { template: '<div>meeting</div>' } },
      { path: '/my/meetings', component: { template: '<div>mine</div>' } },
    ],
  })
  await router.push(path)
  await router.isReady()
  const w = mount({ template: '<router-view />' }, { global: { plugins: [pinia, router] }, attachTo: document.body })
  for (let i = 0; i < 3; i++) await flushPromises()
  return w
}

describe('check-in page', () => {
  it('checks in as the member grant and says so', async () => {
    onFetch(() => json({ meeting_id: 12, person_id: 101, attendance: 'present', checked_in_at: '2026-03-12T06:31:00Z', already: false }))
    const w = await mountAt('/checkin?m=12&c=59400000.abc')
    const req = requests.find((r) => r.url.includes('/checkin'))!
    expect(new URL(req.url).pathname).toBe('/api/v1/meetings/12/checkin')
    expect(req.method).toBe('POST')
    expect(req.headers.get('X-Acting-Grant')).toBe('8')
    expect(await req.json()).toEqual({ code: '59400000.abc' })
    expect(w.find('[data-testid=checkin-card]').attributes('data-state')).toBe('ok')
    expect(w.find('[data-testid=checkin-message]').text()).toBe('签到成功')
    w.unmount()
  })

  it('says an old code is expired', async () => {
    onFetch(() => problem(422, 'validation_failed', { errors: [{ field: 'code', code: 'checkin_code_expired', message: 'expired', message_zh: '二维码已过期' }] }))
    const w = await mountAt('/checkin?m=12&c=59399990.abc')
    expect(w.find('[data-testid=checkin-card]').attributes('data-state')).toBe('fail')
    expect(w.find('[data-testid=checkin-message]').text()).toBe('二维码已过期，请重新扫描')
    w.unmount()
  })

  it('refuses a link without a code without asking the server', async () => {
    onFetch(() => json({}))
    const w = await mountAt('/checkin?m=12')
    expect(requests.filter((r) => r.url.includes('/checkin'))).toHaveLength(0)
    expect(w.find('[data-testid=checkin-message]').text()).toContain('签到链接不完整')
    w.unmount()
  })
})
