import { describe, expect, it } from 'vitest'
import { TaskFileError } from '../errors'
import { parseTasks, readTasksFile, tasksFingerprint } from './read-tasks-file'

describe('parseTasks', () => {
  it('reads one task a line, skipping blank lines and keeping extra fields', () => {
    const tasks = parseTasks(
      'tasks.jsonl',
      '{"id": "a", "question": "What is 1 + 1?", "answer": "2", "level": 1}\r\n\n{"id": 2, "question": "Q?", "answer": 4}\n',
    )
    expect(tasks).toEqual([
      { id: 'a', question: 'What is 1 + 1?', answer: '2', level: 1 },
      { id: 2, question: 'Q?', answer: 4 },
    ])
  })

  it('names the line and the problem of a bad task', () => {
    const problem = (text: string) => {
      try {
        parseTasks('tasks.jsonl', text)
      } catch (error) {
        expect(TaskFileError.isInstance(error)).toBe(true)
        return (error as Error).message
      }
      return 'no error'
    }
    expect(problem('{"id": "a", "question": "Q", "answer": 1}\n{"id": "b", "question": ')).toBe(
      `tasks.jsonl line 2: not valid JSON (Unexpected end of JSON input)`,
    )
    expect(problem('["a"]')).toBe('tasks.jsonl line 1: a task must be a JSON object, got an array')
    expect(problem('{"id": -1, "question": "Q", "answer": 1}')).toBe(
      'tasks.jsonl line 1: `id` must be a non-empty string or an integer >= 0, got -1',
    )
    expect(problem('{"id": "a", "question": " ", "answer": 1}')).toBe(
      'tasks.jsonl line 1: `question` must be a non-empty string, got the string " "',
    )
    expect(problem('{"id": "a", "question": "Q"}')).toBe(
      'tasks.jsonl line 1: `answer` is required (the reward compares the final answer with it)',
    )
    expect(
      problem('{"id": 7, "question": "Q", "answer": 1}\n{"id": "7", "question": "R", "answer": 2}'),
    ).toBe('tasks.jsonl line 2: id "7" is also the id on line 1; task ids must be unique')
    expect(problem('\n\n')).toBe('tasks.jsonl line 0: the tasks file holds no task (one JSON object a line)')
  })

  it('names a file that cannot be read', () => {
    expect(() => readTasksFile('/no/such/tasks.jsonl')).toThrow(
      '/no/such/tasks.jsonl line 0: cannot read the tasks file (ENOENT)',
    )
  })

  it('fingerprints the task ids in order', () => {
    const one = parseTasks(
      't',
      '{"id": "a", "question": "Q", "answer": 1}\n{"id": "b", "question": "Q", "answer": 1}',
    )
    const swapped = [one[1]!, one[0]!]
    expect(tasksFingerprint(one)).toMatch(/^[0-9a-f]{64}$/)
    expect(tasksFingerprint(one)).toBe(tasksFingerprint([...one]))
    expect(tasksFingerprint(swapped)).not.toBe(tasksFingerprint(one))
  })
})
