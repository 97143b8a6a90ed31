/**
 * Errors carry a `Symbol.for(...)` marker so that `isInstance` also recognises an error created by a second
 * installed copy of a package (where `instanceof` fails). Every package checks its markers with this.
 */
export function hasErrorMarker(error: unknown, marker: symbol): boolean {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true
}
