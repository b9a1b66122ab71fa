/**
 * `pidriver/testing`: test your app without pi or a network (a fake transport), or with the
 * real pi offline (a fake OpenAI-compatible LLM server and an agent dir pointing at it).
 *
 * @packageDocumentation
 * @module pidriver/testing
 */
export { startFakeLlm } from './fakeLlm/startFakeLlm.js';
export { scenarioReply } from './fakeLlm/scenarios.js';
export type { FakeLlm, FakeLlmOptions, FakeLlmRequest, FakeReply, FakeToolCall } from './fakeLlm/types.js';
export { fakeAgentConfig, writeFakeAgentDir, FAKE_MODEL, FAKE_PROVIDER, FAKE_THINKING_MODEL } from './fakeAgentDir.js';
export type { FakeAgentConfigOptions, FakeAgentDirOptions } from './fakeAgentDir.js';
export { startFakePiEnv } from './fakePiEnv.js';
export type { FakePiEnv, FakePiEnvOptions } from './fakePiEnv.js';
export { FakeTransport } from './FakeTransport.js';
export type { FakeTransportOptions, SentCommand } from './FakeTransport.js';
export { fakeInteractionRequest, APPROVAL_OPTIONS } from './fakeInteractionRequest.js';
export { fakePolicyRequest } from './fakePolicyRequest.js';
export { recordTranscript, recordingTransport, readTranscript, parseTranscript, TranscriptRecordSchema, CLOSE_STDIN_NOTE } from './recordTranscript.js';
export type { RecordTranscriptOptions, RecordingTransportOptions, TranscriptRecord, TranscriptRecording, TranscriptSink } from './recordTranscript.js';
export { replayTranscript } from './replayTranscript/replayTranscript.js';
export { ReplayTransport, TIMESTAMP_BASE_MS } from './replayTranscript/ReplayTransport.js';
export type { ReplayDeviation, ReplayGate, ReplayTiming, ReplayTranscriptOptions, UnmatchedContext } from './replayTranscript/types.js';
export {
  normalizeTranscript,
  snapshotEvents,
  TranscriptNormalizer,
  PORT_PLACEHOLDER,
  REDACTED_PLACEHOLDER,
  TIMESTAMP_PLACEHOLDER,
} from './normalizeTranscript.js';
export type { NormalizeOptions, SnapshotOptions } from './normalizeTranscript.js';
