import { beforeEach, describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import { json, onFetch, problem, requests } from '@/test/setup'
import { setTokens } from '@/api/session'
import { useAuthStore } from '@/stores/auth'
import MemberEditView from './MemberEditView.vue'

const member = {
  id: 101, name: '张三', gender: 'male', category: 'full', org_id: 3, org_name: '机关第一党支部', joined_at: '2012-06-20', full_member_at: '2013-06-20',
  status: 'normal', is_flowing: false, lost_contact: false, phone: '13800138000', id_number: '**************123X', post: '干事', version: 3,
}

async function setup(patch: (req: Request) => Response | Promise<Response>) {
  const pinia = createPinia()
  setActivePinia(pinia)
  setTokens({ access_token: 'a', refresh_token: 'r', token_type: 'Bearer', expires_in: 900 })
  const auth = useAuthStore()
  auth.me = { account: { id: 5, username: 'zhibu01' }, person: null, grants: [{ id: 5, role: 'branch', org_id: 3, org_name: '机关第一党支部', org_code: 'D010101' }] }
  auth.actingGrantId = 5
  let current = { ...member }
  onFetch(async (req) => {
    const path = new URL(req.url).pathname
    if (req.method === 'PATCH') return patch(req)
    if (path === '/api/v1/members/101') return json(current, 200, { ETag: `"${current.version}"` })
    if (path === '/api/v1/code-lists') return json({ ethnicity: [{ code: '01', name: '汉族' }], education: [{ code: '02', name: '大学本科' }], degree: [], job_category: [] })
    if (path === '/api/v1/orgs/3/path') return json([{ id: 1, code: 'D01', name: '党委', kind: 'committee' }, { id: 3, code: 'D010101', name: '机关第一党支部', kind: 'branch' }])
    return problem(404, 'not_found')
  })
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/members/:id/edit', name: 'member-edit', component: MemberEditView },
      { path: '/members/:id', name: 'member-detail', component: { template: '<div>detail</div>' } },
    ],
  })
  await router.push('/members/101/edit')
  await router.isReady()
  const wrapper = mount({ template: '<router-view />' }, { global: { plugins: [pinia, router], stubs: { transition: false, 'transition-group': false } }, attachTo: document.body })
  await flushPromises()
  return { wrapper, router, setCurrent: (m: typeof member) => (current = m) }
}

function phoneInput(): HTMLInputElement {
  return document.querySelector('input[data-testid=field-phone], [data-testid=field-phone] input') as HTMLInputElement
}

async function type(el: HTMLInputElement, value: string) {
  el.value = value
  el.dispatchEvent(new Event('input'))
  await flushPromises()
}

async function save() {
  ;(document.querySelector('[data-testid=member-save]') as HTMLButtonElement).click()
  await flushPromises()
  await new Promise((r) => setTimeout(r, 20))
  await flushPromises()
}

beforeEach(() => {
  document.body.innerHTML = ''
})

describe('member edit form', () => {
  it('sends only the changed field with If-Match and opens the detail', async () => {
    const { router, wrapper } = await setup(async (req) => {
      expect(req.headers.get('If-Match')).toBe('"3"')
      expect(await req.json()).toEqual({ phone: '13912345678' })
      return json({ ...member, phone: '13912345678', version: 4 })
    })
    expect(phoneInput().value).toBe('13800138000')
    await type(phoneInput(), '13912345678')
    await save()
    expect(requests.some((r) => r.method === 'PATCH')).toBe(true)
    expect(router.currentRoute.value.fullPath).toBe('/members/101')
    wrapper.unmount()
  })

  it("shows the API's field error beside the field", async () => {
    const { wrapper } = await setup(() =>
      problem(422, 'validation_failed', { errors: [{ field: 'phone', code: 'invalid_phone', message: 'bad', message_zh: '手机号码格式不正确（11 位）' }] }),
    )
    await type(phoneInput(), '123')
    await save()
    await new Promise((r) => setTimeout(r, 200)) // the form item shows its error after a short debounce
    await flushPromises()
    const item = phoneInput().closest('.el-form-item')!
    expect(item.classList.contains('is-error')).toBe(true)
    expect(item.querySelector('.el-form-item__error')?.textContent).toContain('手机号码格式不正确（11 位）')
    wrapper.unmount()
  })

  it('explains a stale edit and keeps the input after reloading', async () => {
    let attempts = 0
    const { wrapper, setCurrent } = await setup(async (req) => {
      attempts++
      if (attempts === 1) return problem(412, 'stale_version', { title_zh: '记录已被他人修改' })
      expect(req.headers.get('If-Match')).toBe('"4"')
      return json({ ...member, phone: '13912345678', post: '委员', version: 5 })
    })
    await type(phoneInput(), '13912345678')
    setCurrent({ ...member, post: '委员', version: 4 }) // someone else saved meanwhile
    await save()
    const dialog = document.querySelector('[data-testid=stale-dialog]')
    expect(dialog?.textContent).toContain('记录已被他人修改')
    expect(dialog?.textContent).toContain('委员')
    ;(document.querySelector('[data-testid=stale-keep]') as HTMLButtonElement).click()
    await flushPromises()
    expect(phoneInput().value).toBe('13912345678')
    await save()
    expect(attempts).toBe(2)
    wrapper.unmount()
  })
})
