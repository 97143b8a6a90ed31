export {
  createStrandsRecorderPlugin,
  STRANDS_RECORDER_PLUGIN_NAME,
  type StrandsRecorderPluginOptions,
} from './create-strands-recorder-plugin'
export { extractStrandsMessageStop } from './extract-strands-message-stop'
export { VLLMTokenRecorder, type VLLMTokenRecorderOptions } from './vllm-token-recorder'
