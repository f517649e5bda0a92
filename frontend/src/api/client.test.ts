import { beforeEach, describe, expect, it, vi } from 'vitest'
import { json, onFetch, problem, requests } from '@/test/setup'
import { api, call, configureClient, asGrant } from './client'
import { ApiError } from './errors'
import { clearTokens, getTokens, setTokens } from './session'

const tokenResponse = (n: number) => ({ access_token: `access-${n}`, refresh_token: `refresh-${n}`, token_type: 'Bearer', expires_in: 900 })
const page = { items: [], total: 0, page: 1, page_size: 20 }

beforeEach(() => {
  clearTokens()
  configureClient({ actingGrant: () => null, sessionEnded: async () => false })
})

describe('auth middleware', () => {
  it('sends the bearer token and the acting grant', async () => {
    setTokens(tokenResponse(1))
    configureClient({ actingGrant: () => 9 })
    onFetch(() => json(page))
    await call(api.GET('/api/v1/members', { params: { query: { q: 'zs' } } }))
    expect(requests[0]!.headers.get('Authorization')).toBe('Bearer access-1')
    expect(requests[0]!.headers.get('X-Acting-Grant')).toBe('9')
    expect(new URL(requests[0]!.url).search).toBe('?q=zs')
  })

  it('lets a call pin another grant', async () => {
    setTokens(tokenResponse(1))
    configureClient({ actingGrant: () => 9 })
    onFetch(() => json(page))
    await call(api.GET('/api/v1/members', { headers: asGrant(3) }))
    expect(requests[0]!.headers.get('X-Acting-Grant')).toBe('3')
  })

  it('refreshes once for concurrent expired requests and retries each, body intact', async () => {
    setTokens(tokenResponse(1))
    let refreshes = 0
    onFetch(async (req) => {
      const path = new URL(req.url).pathname
      if (path === '/api/v1/auth/refresh') {
        refreshes++
        expect(await req.json()).toEqual({ refresh_token: 'refresh-1' })
        await new Promise((r) => setTimeout(r, 10))
        return json(tokenResponse(2))
      }
      if (req.headers.get('Authorization') === 'Bearer access-1') return problem(401, 'token_expired')
      if (req.method === 'PATCH') return json({ echoed: await req.json() })
      return json(page)
    })
    const [a, b, c] = await Promise.all([
      call(api.GET('/api/v1/members')),
      call(api.GET('/api/v1/orgs')),
      call(api.PATCH('/api/v1/members/{id}', { params: { path: { id: 5 } }, body: { phone: '13912345678', version: 3 } })),
    ])
    expect(refreshes).toBe(1)
    expect(a).toEqual(page)
    expect(b).toEqual(page)
    expect(c).toEqual({ echoed: { phone: '13912345678', version: 3 } })
    expect(getTokens()?.access).toBe('access-2')
    expect(getTokens()?.refresh).toBe('refresh-2')
  })

  it('refreshes on token_revoked (a role changed under a live token) and retries with the new grants', async () => {
    setTokens(tokenResponse(1))
    onFetch((req) => {
      if (new URL(req.url).pathname === '/api/v1/auth/refresh') return json(tokenResponse(2))
      if (req.headers.get('Authorization') === 'Bearer access-1') return problem(401, 'token_revoked')
      return json(page)
    })
    expect(await call(api.GET('/api/v1/members'))).toEqual(page)
    expect(getTokens()?.access).toBe('access-2')
  })

  it('asks to log in again when the refresh token is refused, then retries', async () => {
    setTokens(tokenResponse(1))
    const sessionEnded = vi.fn(async () => {
      setTokens(tokenResponse(7)) // the dialog's login
      return true
    })
    configureClient({ sessionEnded })
    onFetch((req) => {
      const path = new URL(req.url).pathname
      if (path === '/api/v1/auth/refresh') return problem(401, 'refresh_reused')
      if (req.headers.get('Authorization') !== 'Bearer access-7') return problem(401, 'token_expired')
      return json(page)
    })
    await expect(call(api.GET('/api/v1/members'))).resolves.toEqual(page)
    expect(sessionEnded).toHaveBeenCalledTimes(1)
  })

  it('fails with the 401 when the user gives up', async () => {
    setTokens(tokenResponse(1))
    onFetch((req) => (new URL(req.url).pathname === '/api/v1/auth/refresh' ? problem(401, 'invalid_refresh_token') : problem(401, 'token_expired')))
    const err = await call(api.GET('/api/v1/members')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).status).toBe(401)
    expect(getTokens()).toBeNull()
  })

  it('does not prompt when no login was sent', async () => {
    const sessionEnded = vi.fn(async () => true)
    configureClient({ sessionEnded })
    onFetch(() => problem(401, 'unauthenticated'))
    await expect(call(api.GET('/api/v1/me'))).rejects.toMatchObject({ code: 'unauthenticated' })
    expect(sessionEnded).not.toHaveBeenCalled()
  })

  it('maps problems and network failures to ApiError', async () => {
    onFetch(() => problem(403, 'out_of_scope', { title_zh: '超出您的组织管理范围' }))
    await expect(call(api.GET('/api/v1/orgs/{id}', { params: { path: { id: 2 } } }))).rejects.toMatchObject({ status: 403, code: 'out_of_scope' })
    onFetch(() => {
      throw new TypeError('Failed to fetch')
    })
    await expect(call(api.GET('/api/v1/orgs'))).rejects.toMatchObject({ code: 'network' })
  })
})
