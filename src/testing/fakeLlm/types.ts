/**
 * The fake LLM's shapes: a request as the server saw it, a scripted reply, the options and the
 * running server.
 */
/** One chat-completions request the fake server received. */
export interface FakeLlmRequest {
  /** 1-based request counter (per server). */
  readonly n: number;
  readonly method: string;
  readonly url: string;
  /** The `scenario:` token of {@link scenarioText} without the prefix (e.g. `slow:10:5`); `text` if none. */
  readonly scenario: string;
  /** Number of `role:"tool"` messages after the last user message. */
  readonly step: number;
  /**
   * How many requests so far (this one included) had the same last user text and step. pi's
   * retries repeat a request unchanged, so this is 1 for a first try and 2+ for retries.
   */
  readonly attempt: number;
  readonly model: string | undefined;
  /** Roles of `body.messages`, in order. */
  readonly roles: readonly string[];
  /** Names of `body.tools`. */
  readonly tools: readonly string[];
  /** Text of the last user message (text parts joined with `\n`). */
  readonly lastUserText: string;
  /**
   * The user message the scenario and its `[[key:…]]` overrides are read from: the last one,
   * except after pidriver's structured-output follow-up (which names `submit_result` and has no
   * `scenario:` token), where it is the last user message before it that has one.
   */
  readonly scenarioText: string;
  /** Text content of the `role:"tool"` messages after the last user message, in order. */
  readonly toolResults: readonly string[];
  /** The parsed JSON body. */
  readonly body: unknown;
  /** Request headers, lower-cased; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string | undefined>>;
}

/** A scripted tool call in a {@link FakeReply}. */
export interface FakeToolCall {
  /** Tool call id; default `call_<name>_<index+1>`. */
  readonly id?: string;
  readonly name: string;
  readonly arguments: Record<string, unknown>;
}

/** A scripted reply: a stream of deltas, or an HTTP error, or a broken stream. */
export interface FakeReply {
  /** Assistant text: one delta, or the list of deltas. */
  readonly text?: string | readonly string[];
  /** `reasoning_content` deltas, sent before the text. */
  readonly thinking?: string | readonly string[];
  /** Tool calls, sent after the text; each as an id/name chunk and two argument halves. */
  readonly toolCalls?: readonly FakeToolCall[];
  /** Default `tool_calls` when there are tool calls, else `stop`. */
  readonly finishReason?: 'stop' | 'length' | 'tool_calls';
  /** Answer with this HTTP status and body `{"error":{"message":"fake <status> error",…}}` instead of a stream. */
  readonly status?: number;
  /** Adds `x-should-retry: false`, which stops the OpenAI SDK inside pi from retrying on its own. */
  readonly noRetry?: boolean;
  /** Delay between content chunks, in milliseconds. */
  readonly delayMs?: number;
  /** Destroys the socket after this many content chunks (pi reports `terminated`). */
  readonly cutAfter?: number;
  /** Sends the SSE headers, then nothing until the client or {@link FakeLlm.close} ends it. */
  readonly hang?: boolean;
  /** Usage in the final chunk. Default: 100 prompt tokens (40 cached), one completion token per delta or tool call. */
  readonly usage?: { readonly promptTokens: number; readonly completionTokens: number; readonly cachedTokens?: number };
}

/** Options for {@link startFakeLlm}. */
export interface FakeLlmOptions {
  /** Loopback address to listen on: `127.x.x.x`, `::1` or `localhost`. Default `127.0.0.1`. */
  readonly host?: string;
  /** Port; default 0 (random). 8080, 1234 and 11434 are refused: oh-my-pi probes them for local LLMs. */
  readonly port?: number;
  /** Custom replies; when it returns `undefined` the built-in {@link scenarioReply} answers. */
  readonly script?: (request: FakeLlmRequest) => FakeReply | undefined;
  /** Called for every chat-completions request, before the reply is chosen. */
  readonly onRequest?: (request: FakeLlmRequest) => void;
}

/** A running fake server. `await using llm = await startFakeLlm()` closes it at scope exit. */
export interface FakeLlm extends AsyncDisposable {
  /** The base URL for `models.json`: `http://127.0.0.1:<port>/v1`. */
  readonly url: string;
  readonly port: number;
  /** Every chat-completions request received so far (a live array; other routes are not logged). */
  readonly requests: readonly FakeLlmRequest[];
  /** Stops listening and destroys open sockets, hanging streams included. Idempotent. */
  close(): Promise<void>;
}
