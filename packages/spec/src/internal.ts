/**
 * Helpers the project's own packages share that are not part of the typed contract
 * (`@vllm-tito/spec/internal`). Not covered by semver for outside users.
 */
export { closeHttp, listenHttp } from './listen'
