import { reactive, ref } from 'vue'
import { ApiError, fieldErrorMap, unplacedFieldErrors } from '@/api/errors'

/**
 * The API's field errors beside their form items: `errors[field]` feeds `<el-form-item :error>`.
 * Errors for fields the form does not show go to `general`, so none is lost.
 */
export function useFormErrors(placed: readonly string[]) {
  const errors = reactive<Record<string, string>>({})
  const general = ref<string[]>([])

  function clear(field?: string) {
    if (field) {
      delete errors[field]
      return
    }
    for (const k of Object.keys(errors)) delete errors[k]
    general.value = []
  }

  /** Returns true when the error was about fields (shown on the form). */
  function apply(e: ApiError): boolean {
    clear()
    if (!e.fields.length) return false
    const map = fieldErrorMap(e.fields.filter((f) => placed.includes(f.field)))
    Object.assign(errors, map)
    general.value = unplacedFieldErrors(e.fields, placed)
    return true
  }

  return { errors, general, clear, apply }
}
