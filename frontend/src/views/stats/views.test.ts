import { describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import { json, onFetch, problem, requests } from '@/test/setup'
import { setTokens } from '@/api/session'
import { useAuthStore } from '@/stores/auth'
import DashboardView from './DashboardView.vue'
import ReportView from './ReportView.vue'

// ECharts needs a canvas; the views' own logic is what these tests are about.
vi.mock('./StatsChart.vue', async () => {
  const { defineComponent, h } = await import('vue')
  return { __esModule: true, default: defineComponent({ name: 'StatsChart', props: { option: { type: Object, default: () => ({}) }, height: { type: [Number, String], default: 260 } }, emits: ['pick'], setup: () => () => h('div', { class: 'chart-stub' }) }) }
})

const bucket = (key: string, label: string, count: number, filter: Record<string, unknown> | null = null) => ({ key, label, count, filter })
const structure = {
  org_id: 3, org_name: '机关党委', as_of: '2026-11-30', total: 25, full: 23, probationary: 2,
  dimensions: {
    gender: [bucket('male', '男', 15, { gender: 'male', status: 'normal', org_id: 3 }), bucket('female', '女', 10, { gender: 'female' })],
    category: [bucket('full', '正式党员', 23), bucket('probationary', '预备党员', 2)],
    ethnicity: [bucket('han', '汉族', 25)], age_band: [bucket('le30', '30岁及以下', 25)], education: [bucket('unknown', '未填写', 25)],
    job_category: [bucket('unknown', '未填写', 25)], joined_period: [bucket('from_2012_11', '2012年11月以后', 25)], party_standing: [bucket('probationary', '预备党员', 25)],
  },
  college_or_above: 20,
  orgs: { total: 4, by_kind: [bucket('committee', '基层党委', 1), bucket('branch', '党支部', 3)] },
  pipeline: { applicants: null, activists: null, targets: null, admitted_this_year: 2, made_full_this_year: 1 },
  alerts: { term_expired: [], below_three_full: [] },
  bands: { name: '2023', age: [], joined_period: [], party_standing: [] },
}
const reminders = {
  org_id: 3, as_of: '2026-11-30', counts: { term_overdue: 1, term_ending: 0, below_three_full: 0, probation_ending: 1, missing_data: 0 },
  items: [
    { kind: 'term_overdue', severity: 'danger', org_id: 7, org_name: '第一党支部', person_id: null, person_name: null, due_on: '2026-05-01', detail_zh: '任期已满', detail_en: '' },
    { kind: 'probation_ending', severity: 'warning', org_id: 7, org_name: '第一党支部', person_id: 42, person_name: '张三', due_on: '2026-12-10', detail_zh: '预备期将满', detail_en: '' },
  ],
}

async function mountAt(path: string, component: object) {
  const pinia = createPinia()
  setActivePinia(pinia)
  setTokens({ access_token: 'a', refresh_token: 'r', token_type: 'Bearer', expires_in: 900 })
  const auth = useAuthStore()
  auth.me = { account: { id: 5, username: 'dangwei' }, person: null, grants: [{ id: 5, role: 'committee', org_id: 3, org_name: '机关党委', org_code: 'D01' }] }
  auth.actingGrantId = 5
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/dashboard', name: 'dashboard', component },
      { path: '/reports/party-statistics', name: 'party-report', component },
      { path: '/members', name: 'members', component: { template: '<div>members</div>' } },
      { path: '/members/:id', component: { template: '<div>member</div>' } },
      { path: '/orgs', component: { template: '<div>orgs</div>' } },
    ],
  })
  await router.push(path)
  await router.isReady()
  const wrapper = mount({ template: '<router-view />' }, { global: { plugins: [pinia, router] }, attachTo: document.body })
  await flushPromises()
  await new Promise((r) => setTimeout(r, 10))
  await flushPromises()
  return { wrapper, router }
}

describe('数据看板', () => {
  it('asks for the acting role’s org today and shows the figures, charts and reminders with their links', async () => {
    onFetch((req) => {
      const u = new URL(req.url)
      if (u.pathname === '/api/v1/stats/structure') return json(structure)
      if (u.pathname === '/api/v1/stats/trend') return json({ org_id: 3, points: [{ as_of: '2025-12-31', total: 20, full: 19, probationary: 1 }] })
      if (u.pathname === '/api/v1/stats/orgs') return json({ org_id: 3, as_of: '2026-11-30', items: [{ org_id: 3, parent_id: null, name: '机关党委', kind: 'committee', depth: 0, members: 25, full: 23, probationary: 2 }] })
      if (u.pathname === '/api/v1/stats/reminders') return json(reminders)
      return problem(404, 'not_found')
    })
    const { wrapper, router } = await mountAt('/dashboard', DashboardView)
    const structureReq = requests.find((r) => new URL(r.url).pathname === '/api/v1/stats/structure')!
    expect(new URL(structureReq.url).searchParams.get('org_id')).toBe('3')
    expect(wrapper.find('[data-testid=stat-total] [data-testid=stat-value]').text()).toBe('25')
    expect(wrapper.find('[data-testid=stat-college] [data-testid=stat-value]').text()).toBe('80.0%')
    expect(wrapper.findAll('.chart-stub').length).toBeGreaterThanOrEqual(9)
    expect(wrapper.find('[data-testid=pipeline]').text()).toContain('暂未统计')
    // A single org: no treemap to draw.
    expect(wrapper.find('[data-testid=treemap]').text()).toContain('没有下级组织')
    const links = wrapper.findAll('[data-testid=reminders] a.rem').map((a) => a.attributes('href'))
    expect(links).toEqual(['/orgs?id=7', '/members/42'])

    // A click on the first gender slice opens the member list behind it.
    const gender = wrapper.find('[data-testid=chart-gender]').findComponent({ name: 'StatsChart' })
    gender.vm.$emit('pick', 0, { index: 0, data: null, path: [] })
    await flushPromises()
    expect(router.currentRoute.value.fullPath).toBe('/members?status=normal&gender=male&org_id=3')
    wrapper.unmount()
  })

  it('shows the translated problem when the figures cannot be read', async () => {
    onFetch(() => problem(403, 'out_of_scope'))
    const { wrapper } = await mountAt('/dashboard?org_id=99', DashboardView)
    expect(wrapper.find('[data-testid=dashboard-error]').text()).toContain('超出您当前角色的组织管理范围')
    wrapper.unmount()
  })
})

describe('统计报表', () => {
  it('posts the org, last year end and kind, and renders the header spans and total rows', async () => {
    let body: unknown = null
    let accept = ''
    onFetch(async (req) => {
      if (new URL(req.url).pathname !== '/api/v1/reports/party-statistics') return problem(404, 'not_found')
      body = await req.json()
      accept = req.headers.get('Accept') ?? ''
      return json({
        org_id: 3, org_name: '机关党委', as_of: '2025-12-31', previous_as_of: '2024-12-31', kind: 'annual', generated_by: '张三', generated_at: '2026-11-30T10:00:00+08:00',
        tables: [{ key: 'basic', title: '党员基本情况', header: [[{ text: '单位', colspan: 1, rowspan: 2 }, { text: '性别', colspan: 2, rowspan: 1 }], [{ text: '男', colspan: 1, rowspan: 1 }, { text: '女', colspan: 1, rowspan: 1 }]], rows: [{ label: '机关党委', values: [15, 10], total: true }, { label: '第一党支部', values: [5, 4], total: false }], notes: ['说明'] }],
      })
    })
    const { wrapper } = await mountAt('/reports/party-statistics', ReportView)
    await wrapper.find('[data-testid=report-generate]').trigger('click')
    await flushPromises()
    expect(body).toEqual({ org_id: 3, as_of: `${new Date().getFullYear() - 1}-12-31`, kind: 'annual' })
    expect(accept).toBe('application/json')
    const table = wrapper.find('[data-testid=report-table-basic] table')
    const th = table.findAll('thead th')
    expect(th.map((c) => [c.text(), c.attributes('colspan'), c.attributes('rowspan')])).toEqual([
      ['单位', '1', '2'],
      ['性别', '2', '1'],
      ['男', '1', '1'],
      ['女', '1', '1'],
    ])
    const rows = table.findAll('tbody tr')
    expect(rows[0]!.classes()).toContain('total')
    expect(rows[1]!.classes()).not.toContain('total')
    expect(rows[0]!.text()).toContain('15')
    wrapper.unmount()
  })

  it('shows the translated problem of a refused report', async () => {
    onFetch(() => problem(422, 'validation_failed', { detail_zh: '统计截止日期不能晚于今天' }))
    const { wrapper } = await mountAt('/reports/party-statistics', ReportView)
    await wrapper.find('[data-testid=report-generate]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid=report-error]').text()).toContain('统计截止日期不能晚于今天')
    wrapper.unmount()
  })
})
