// The member form's closed lists (ethnicity per GB/T 3304, education, degree, job category) come
// from the server's code lists: the same table the server checks member records against, kept as
// data so an institution can adjust it (docs/domain.md, Members). Loaded once per session.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, call } from '@/api/client'
import { toApiError } from '@/api/errors'
import type { CodeLists } from '@/api/types'

export const useCodeListsStore = defineStore('codeLists', () => {
  const lists = ref<CodeLists | null>(null)
  const error = ref<string | null>(null)
  let pending: Promise<void> | null = null

  function load(): Promise<void> {
    if (lists.value) return Promise.resolve()
    pending ??= call(api.GET('/api/v1/code-lists'))
      .then((l) => {
        lists.value = l
        error.value = null
      })
      .catch((e: unknown) => {
        error.value = toApiError(e).message
      })
      .finally(() => {
        pending = null
      })
    return pending
  }

  /** The names of one list, in its standard order. */
  function names(list: keyof CodeLists): string[] {
    return lists.value?.[list].map((i) => i.name) ?? []
  }

  return { lists, error, load, names }
})
