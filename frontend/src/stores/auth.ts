import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api, call, configureClient, rawApi } from '@/api/client'
import { ApiError } from '@/api/errors'
import { clearTokens, getTokens, onTokensChange, setTokens } from '@/api/session'
import type { Grant, Me } from '@/api/types'
import { sortGrants } from '@/utils/permissions'
import { t } from '@/locales'

const ACTING_KEY = 'dangjian.acting'

function storedActing(accountId: number): number | null {
  try {
    const all = JSON.parse(localStorage.getItem(ACTING_KEY) ?? '{}') as Record<string, number>
    return all[accountId] ?? null
  } catch {
    return null
  }
}

function storeActing(accountId: number, grantId: number) {
  let all: Record<string, number> = {}
  try {
    all = JSON.parse(localStorage.getItem(ACTING_KEY) ?? '{}') as Record<string, number>
  } catch {
    /* start afresh */
  }
  all[accountId] = grantId
  localStorage.setItem(ACTING_KEY, JSON.stringify(all))
}

export function grantLabel(g: Grant): string {
  const org = g.org_name ?? (g.role === 'political_dept' ? t.layout.wholeInstitution : '')
  return org ? `${t.roles[g.role]} · ${org}` : t.roles[g.role]
}

export const useAuthStore = defineStore('auth', () => {
  const me = ref<Me | null>(null)
  const actingGrantId = ref<number | null>(null)
  /** Bumped on a role switch so that views reload with the new scope. */
  const scopeKey = ref(0)
  const reloginOpen = ref(false)
  let reloginWaiters: Array<(ok: boolean) => void> = []

  const grants = computed(() => sortGrants(me.value?.grants ?? []))
  const actingGrant = computed<Grant | null>(() => grants.value.find((g) => g.id === actingGrantId.value) ?? grants.value[0] ?? null)
  const role = computed(() => actingGrant.value?.role ?? null)
  const isLoggedIn = computed(() => me.value !== null)
  const username = computed(() => me.value?.account.username ?? '')
  const displayName = computed(() => me.value?.person?.name ?? me.value?.account.username ?? '')

  function chooseGrant() {
    if (!me.value) return
    const stored = storedActing(me.value.account.id)
    const g = grants.value.find((x) => x.id === stored) ?? grants.value[0]
    actingGrantId.value = g?.id ?? null
  }

  async function loadMe() {
    me.value = await call(api.GET('/api/v1/me'))
    chooseGrant()
  }

  async function login(username: string, password: string) {
    let r
    try {
      r = await rawApi.POST('/api/v1/auth/login', { body: { username, password } })
    } catch (e) {
      throw ApiError.network(e)
    }
    if (!r.data) throw ApiError.fromResponse(r.response, r.error)
    setTokens(r.data)
    await loadMe()
  }

  /** At start-up: a stored login is resumed (the client refreshes an expired access token). */
  async function restore(): Promise<boolean> {
    if (!getTokens()) return false
    try {
      await loadMe()
      return true
    } catch {
      clearTokens()
      me.value = null
      return false
    }
  }

  async function logout() {
    const tokens = getTokens()
    clearTokens()
    me.value = null
    actingGrantId.value = null
    if (tokens) {
      try {
        await rawApi.POST('/api/v1/auth/logout', { body: { refresh_token: tokens.refresh } })
      } catch {
        /* the login ends client-side anyway */
      }
    }
  }

  function switchGrant(id: number) {
    if (!me.value || !grants.value.some((g) => g.id === id)) return
    actingGrantId.value = id
    storeActing(me.value.account.id, id)
    scopeKey.value++
  }

  /** The client found the login ended: ask for the password in a dialog, keep the page. */
  function sessionEnded(): Promise<boolean> {
    if (!me.value) return Promise.resolve(false)
    reloginOpen.value = true
    return new Promise((resolve) => reloginWaiters.push(resolve))
  }

  function finishRelogin(ok: boolean) {
    reloginOpen.value = false
    const waiters = reloginWaiters
    reloginWaiters = []
    for (const w of waiters) w(ok)
  }

  /** The dialog's login: same account only, so the page's data stays the user's. */
  async function relogin(password: string) {
    const r = await rawApi.POST('/api/v1/auth/login', { body: { username: username.value, password } })
    if (!r.data) throw ApiError.fromResponse(r.response, r.error)
    setTokens(r.data)
    finishRelogin(true)
  }

  configureClient({ actingGrant: () => actingGrant.value?.id ?? null, sessionEnded })

  // Logged out in another tab.
  onTokensChange((tk, fromOtherTab) => {
    if (fromOtherTab && !tk && me.value && !reloginOpen.value) {
      me.value = null
      if (typeof window !== 'undefined' && !window.location.pathname.startsWith('/login')) window.location.assign('/login')
    }
  })

  return {
    me, actingGrantId, scopeKey, reloginOpen, grants, actingGrant, role, isLoggedIn, username, displayName,
    login, loadMe, restore, logout, switchGrant, sessionEnded, finishRelogin, relogin,
  }
})
