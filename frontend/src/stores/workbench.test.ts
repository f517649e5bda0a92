import { describe, expect, it } from 'vitest'
import { todoText } from './workbench'

describe('todoText', () => {
  it('words the meeting to-dos with their counts', () => {
    expect(todoText({ kind: 'meetings_due', count: 3, to: '/meetings/compliance' })).toContain('3 项会议 7 天内到期')
    expect(todoText({ kind: 'meetings_missing', count: 2, to: '/meetings/compliance' })).toContain('已有 2 项应开会议未开')
    expect(todoText({ kind: 'term', count: 1, to: '/orgs' })).toContain('1 个党组织任期')
  })
})
