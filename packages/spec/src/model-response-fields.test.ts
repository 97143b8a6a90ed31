import { describe, expect, it } from 'vitest'
import { extractTokenRecord, isTokenRecord, toResponseFields } from './model-response-fields'
import { makeRecord } from './testing'

describe('model response fields', () => {
  it('carry the strands-vllm keys and the whole record', () => {
    const record = makeRecord()
    expect(toResponseFields(record)).toEqual({
      prompt_token_ids: [151644, 872, 198],
      token_ids: [9707, 151645],
      token_record: record,
    })
  })

  it('find the record in the fields, in a bare record, and survive a JSON round trip', () => {
    const record = makeRecord()
    const fields = JSON.parse(JSON.stringify(toResponseFields(record)))
    expect(extractTokenRecord(fields)).toEqual(record)
    expect(extractTokenRecord(record)).toBe(record)
  })

  it('reject things that are not records', () => {
    expect(extractTokenRecord(undefined)).toBeUndefined()
    expect(extractTokenRecord({ prompt_token_ids: [1], token_ids: [2] })).toBeUndefined()
    expect(extractTokenRecord({ token_record: { ...makeRecord(), schemaVersion: 2 } })).toBeUndefined()
    expect(isTokenRecord({ ...makeRecord(), tokenIds: 'x' })).toBe(false)
    expect(isTokenRecord('record')).toBe(false)
  })
})
