export {
  attachRecorderToAgent,
  createStrandsRecorderPlugin,
  STRANDS_RECORDER_PLUGIN_NAME,
  type StrandsRecorderPluginOptions,
} from './create-strands-recorder-plugin'
export { VLLMTokenRecorder, type VLLMTokenRecorderOptions } from './vllm-token-recorder'
