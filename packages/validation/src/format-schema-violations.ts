import type { ErrorObject } from 'ajv'

/** Limits of the `invalid argument(s)` list. */
export interface ViolationListLimits {
  /** How many violations to list before `; ... (+N more)`. */
  readonly maxViolations: number
  /** Longest text of one violation, in characters; longer ones end with `…`. */
  readonly maxViolationCharacters: number
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/
const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/

/** `/location/cities/0/name` → `location.cities[0].name`; the whole input is `(input)`. */
function formatPath(instancePath: string, extraKey?: string): string {
  const segments = instancePath === '' ? [] : instancePath.slice(1).split('/').map(unescapePointer)
  if (extraKey !== undefined) segments.push(extraKey)
  if (segments.length === 0) return '(input)'
  let path = ''
  for (const segment of segments) {
    if (ARRAY_INDEX.test(segment)) path += `[${segment}]`
    else if (IDENTIFIER.test(segment)) path += path === '' ? segment : `.${segment}`
    else path += `[${JSON.stringify(segment)}]`
  }
  return path
}

function unescapePointer(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~')
}

function typeNames(type: unknown): string {
  return Array.isArray(type) ? type.join(' or ') : String(type)
}

/** One violation in this package's wording (stable across ajv versions for the common keywords). */
function describe(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'required':
      return `${formatPath(error.instancePath, String(params.missingProperty))}: is required`
    case 'additionalProperties':
      return `${formatPath(error.instancePath, String(params.additionalProperty))}: is not allowed`
    case 'unevaluatedProperties':
      return `${formatPath(error.instancePath, String(params.unevaluatedProperty))}: is not allowed`
    case 'type':
      return `${formatPath(error.instancePath)}: must be ${typeNames(params.type)}`
    case 'enum': {
      const allowed = Array.isArray(params.allowedValues) ? params.allowedValues : []
      return `${formatPath(error.instancePath)}: must be one of ${allowed.map((value) => JSON.stringify(value)).join(', ')}`
    }
    case 'const':
      return `${formatPath(error.instancePath)}: must be ${JSON.stringify(params.allowedValue)}`
    default:
      return `${formatPath(error.instancePath)}: ${error.message ?? `must satisfy ${error.keyword}`}`
  }
}

function isBranchParent(error: ErrorObject): boolean {
  return error.keyword === 'anyOf' || error.keyword === 'oneOf'
}

/** Whether `error` was raised while ajv evaluated a branch of `parent` (same or deeper value, schema below). */
function isBranchOf(error: ErrorObject, parent: ErrorObject): boolean {
  return (
    error.schemaPath.startsWith(`${parent.schemaPath}/`) &&
    (error.instancePath === parent.instancePath || error.instancePath.startsWith(`${parent.instancePath}/`))
  )
}

/**
 * Folds the branch errors of `anyOf`/`oneOf` into their parent: `must be string or null` when every branch
 * failed only on its type, else ajv's `must match a schema in anyOf`. Branch details otherwise multiply into
 * noise that changes with the order of the branches.
 *
 * Why one pass with a stack: ajv reports a failed `anyOf`/`oneOf` right after the errors of its branches, so
 * those are the run of errors just before it that lie below it, and an inner `anyOf` is already folded into
 * one entry when its outer one arrives. Matching each parent against every error instead is quadratic: an
 * array of 20,000 failing items took minutes, and items sharing one `anyOf` claimed each other's branches.
 */
function foldBranches(errors: readonly ErrorObject[]): ErrorObject[] {
  const folded: ErrorObject[] = []
  for (const error of errors) {
    if (!isBranchParent(error)) {
      folded.push(error)
      continue
    }
    let firstBranch = folded.length
    while (firstBranch > 0 && isBranchOf(folded[firstBranch - 1]!, error)) firstBranch -= 1
    const branches = folded.splice(firstBranch)
    const onlyTypes =
      branches.length > 0 &&
      branches.every((branch) => branch.keyword === 'type' && branch.instancePath === error.instancePath)
    if (onlyTypes) {
      const types = branches.map((branch) => typeNames((branch.params as { type?: unknown }).type))
      folded.push({ ...error, keyword: 'type', params: { type: types } })
    } else {
      folded.push(error)
    }
  }
  return folded
}

/** Drops `pattern` errors where a `format` error says the same (zod emits both for emails, uuids, dates). */
function dropPatternsShadowedByFormats(errors: readonly ErrorObject[]): ErrorObject[] {
  const formatPaths = new Set(
    errors.filter((error) => error.keyword === 'format').map((error) => error.instancePath),
  )
  return errors.filter((error) => error.keyword !== 'pattern' || !formatPaths.has(error.instancePath))
}

function truncate(text: string, maxCharacters: number): string {
  if (text.length <= maxCharacters) return text
  let end = Math.max(0, maxCharacters - 1)
  // never keep half of a surrogate pair: the lone half is not valid Unicode in the tool message
  // (at end 0, charCodeAt(-1) is NaN and the test is false)
  const last = text.charCodeAt(end - 1)
  if (last >= 0xd800 && last <= 0xdbff) end -= 1
  return `${text.slice(0, end)}…`
}

/**
 * Turns ajv's errors into one deterministic list: each violation as `path: what is wrong`, deduplicated,
 * sorted by code unit (not locale), each cut at `maxViolationCharacters`, the list cut at `maxViolations`
 * with `; ... (+N more)`. The same input and schema always give the same text.
 */
export function formatSchemaViolations(errors: readonly ErrorObject[], limits: ViolationListLimits): string {
  const unique = new Set(
    dropPatternsShadowedByFormats(foldBranches(errors)).map((error) =>
      truncate(describe(error), limits.maxViolationCharacters),
    ),
  )
  // the default sort compares UTF-16 code units: the same order on every machine and in every locale
  const descriptions = [...unique].sort()
  if (descriptions.length <= limits.maxViolations) return descriptions.join('; ')
  const shown = descriptions.slice(0, limits.maxViolations)
  return [...shown, `... (+${descriptions.length - shown.length} more)`].join('; ')
}
