import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { RouteLocationNormalizedLoaded } from 'vue-router'

export interface Tab {
  path: string
  fullPath: string
  title: string
  affix: boolean
  keepAlive?: string
}

const KEY = 'dangjian.tabs'

/** The bar of open pages (RuoYi's TagsView), kept for the browser tab's session. */
export const useTabsStore = defineStore('tabs', () => {
  const tabs = ref<Tab[]>(load())
  /** Component names to drop from the keep-alive cache once (refresh / close). */
  const excluded = ref<string[]>([])

  function load(): Tab[] {
    try {
      return JSON.parse(sessionStorage.getItem(KEY) ?? '[]') as Tab[]
    } catch {
      return []
    }
  }
  function save() {
    sessionStorage.setItem(KEY, JSON.stringify(tabs.value))
  }

  const cachedNames = computed(() =>
    tabs.value.map((t) => t.keepAlive).filter((n): n is string => !!n && !excluded.value.includes(n)),
  )

  function open(route: RouteLocationNormalizedLoaded) {
    if (!route.meta.title || route.meta.public || route.name === 'not-found' || route.name === 'forbidden') return
    const existing = tabs.value.find((t) => t.path === route.path)
    if (existing) {
      existing.fullPath = route.fullPath
    } else {
      const tab: Tab = { path: route.path, fullPath: route.fullPath, title: route.meta.title, affix: !!route.meta.affix }
      if (route.meta.keepAlive) tab.keepAlive = route.meta.keepAlive
      if (tab.affix) tabs.value.unshift(tab)
      else tabs.value.push(tab)
    }
    save()
  }

  function setTitle(path: string, title: string) {
    const tab = tabs.value.find((t) => t.path === path)
    if (tab) {
      tab.title = title
      save()
    }
  }

  /** Closes a tab; returns the tab to show when it was the current one. */
  function close(path: string): Tab | undefined {
    const i = tabs.value.findIndex((t) => t.path === path)
    if (i < 0 || tabs.value[i]!.affix) return undefined
    tabs.value.splice(i, 1)
    save()
    return tabs.value[i] ?? tabs.value[i - 1]
  }

  function closeOthers(path: string) {
    tabs.value = tabs.value.filter((t) => t.affix || t.path === path)
    save()
  }

  function closeAll() {
    tabs.value = tabs.value.filter((t) => t.affix)
    save()
  }

  /** Keep only what the predicate allows (after a role switch). */
  function retain(keep: (t: Tab) => boolean) {
    tabs.value = tabs.value.filter((t) => t.affix || keep(t))
    save()
  }

  function reset() {
    tabs.value = []
    sessionStorage.removeItem(KEY)
  }

  return { tabs, excluded, cachedNames, open, setTitle, close, closeOthers, closeAll, retain, reset }
})
