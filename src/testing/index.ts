/**
 * `pidriver/testing`: test your app without pi or a network (a fake transport), or with the
 * real pi offline (a fake OpenAI-compatible LLM server and an agent dir pointing at it).
 *
 * @packageDocumentation
 */
export { startFakeLlm, scenarioReply } from './fakeLlm.js';
export type { FakeLlm, FakeLlmOptions, FakeLlmRequest, FakeReply, FakeToolCall } from './fakeLlm.js';
export { writeFakeAgentDir, FAKE_MODEL, FAKE_PROVIDER, FAKE_THINKING_MODEL } from './fakeAgentDir.js';
export type { FakeAgentDirOptions } from './fakeAgentDir.js';
export { startFakePiEnv } from './fakePiEnv.js';
export type { FakePiEnv, FakePiEnvOptions } from './fakePiEnv.js';
export { FakeTransport } from './FakeTransport.js';
export type { FakeTransportOptions, SentCommand } from './FakeTransport.js';
export { fakeInteractionRequest, APPROVAL_OPTIONS } from './fakeInteractionRequest.js';
