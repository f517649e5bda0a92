import { computed, ref } from 'vue'
import type { ColumnDef } from '@/components/ColumnSettings.vue'

/** Visible columns of a table, kept in localStorage under the table's name. */
export function useColumns(table: string, defaults: ColumnDef[]) {
  const key = `dangjian.columns.${table}`
  function load(): ColumnDef[] {
    try {
      const saved = JSON.parse(localStorage.getItem(key) ?? 'null') as Record<string, boolean> | null
      if (!saved) return defaults.map((c) => ({ ...c }))
      return defaults.map((c) => ({ ...c, visible: c.fixed ? true : (saved[c.key] ?? c.visible) }))
    } catch {
      return defaults.map((c) => ({ ...c }))
    }
  }
  const columns = ref<ColumnDef[]>(load())
  const visible = computed(() => new Set(columns.value.filter((c) => c.visible).map((c) => c.key)))

  function set(cols: ColumnDef[]) {
    columns.value = cols
    localStorage.setItem(key, JSON.stringify(Object.fromEntries(cols.map((c) => [c.key, c.visible]))))
  }
  function reset() {
    localStorage.removeItem(key)
    columns.value = defaults.map((c) => ({ ...c }))
  }
  return { columns, visible, set, reset }
}
