// The active language. To add one, write a file shaped like zh-CN.ts (type Messages) and pick it here.
import zhCN, { type Messages } from './zh-CN'

export type { Messages }
export const t: Messages = zhCN
export const htmlLang = 'zh-CN'
