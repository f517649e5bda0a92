import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { json, onFetch, problem, requests } from '@/test/setup'
import { getTokens, clearTokens } from '@/api/session'
import { useAuthStore } from './auth'

const me = {
  account: { id: 8, username: 'duozhi' },
  person: { id: 46, name: '李多职', member_org_id: 4 },
  grants: [
    { id: 8, role: 'member', org_id: 4, org_name: '机关第二党支部', org_code: 'D010102' },
    { id: 9, role: 'branch', org_id: 4, org_name: '机关第二党支部', org_code: 'D010102' },
    { id: 10, role: 'committee', org_id: 2, org_name: '机关党总支', org_code: 'D0101' },
  ],
}
const tokens = { access_token: 'a1', refresh_token: 'r1', token_type: 'Bearer', expires_in: 900 }

function backend() {
  onFetch(async (req) => {
    const path = new URL(req.url).pathname
    if (path === '/api/v1/auth/login') {
      const body = (await req.json()) as { password: string }
      if (body.password === 'Demo-2026') return json(tokens)
      return problem(401, 'invalid_credentials', { detail_zh: '用户名或密码错误，再失败 5 次账号将被锁定' })
    }
    if (path === '/api/v1/me') return json(me)
    if (path === '/api/v1/auth/logout') return new Response(null, { status: 204 })
    return problem(404, 'not_found')
  })
}

beforeEach(() => {
  setActivePinia(createPinia())
  clearTokens()
  backend()
})

describe('auth store', () => {
  it('logs in, keeps the tokens and acts in the most powerful role', async () => {
    const auth = useAuthStore()
    await auth.login('duozhi', 'Demo-2026')
    expect(getTokens()?.refresh).toBe('r1')
    expect(auth.displayName).toBe('李多职')
    expect(auth.grants.map((g) => g.role)).toEqual(['committee', 'branch', 'member'])
    expect(auth.role).toBe('committee')
  })

  it('reports a wrong password with the server detail', async () => {
    const auth = useAuthStore()
    await expect(auth.login('duozhi', 'x')).rejects.toMatchObject({ code: 'invalid_credentials', detailZh: '用户名或密码错误，再失败 5 次账号将被锁定' })
    expect(getTokens()).toBeNull()
  })

  it('remembers the chosen role per account and sends it', async () => {
    const auth = useAuthStore()
    await auth.login('duozhi', 'Demo-2026')
    auth.switchGrant(8)
    expect(auth.role).toBe('member')
    expect(auth.scopeKey).toBe(1)
    // a reload: a new store restores the login from storage and the role from preferences
    setActivePinia(createPinia())
    const again = useAuthStore()
    expect(await again.restore()).toBe(true)
    expect(again.role).toBe('member')
    expect(requests.at(-1)!.headers.get('X-Acting-Grant')).toBe(null) // /me is read before a role is chosen
  })

  it('ignores a grant the account does not hold', async () => {
    const auth = useAuthStore()
    await auth.login('duozhi', 'Demo-2026')
    auth.switchGrant(999)
    expect(auth.role).toBe('committee')
  })

  it('logs out on the server and forgets the tokens', async () => {
    const auth = useAuthStore()
    await auth.login('duozhi', 'Demo-2026')
    await auth.logout()
    expect(getTokens()).toBeNull()
    expect(auth.isLoggedIn).toBe(false)
    const last = requests.at(-1)!
    expect(new URL(last.url).pathname).toBe('/api/v1/auth/logout')
    expect(await last.json()).toEqual({ refresh_token: 'r1' })
  })

  it('holds failed requests until the password is given again', async () => {
    const auth = useAuthStore()
    await auth.login('duozhi', 'Demo-2026')
    const waiting = auth.sessionEnded()
    expect(auth.reloginOpen).toBe(true)
    await auth.relogin('Demo-2026')
    await expect(waiting).resolves.toBe(true)
    expect(auth.reloginOpen).toBe(false)
  })
})
