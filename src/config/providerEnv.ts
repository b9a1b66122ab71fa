/**
 * Which environment variable pi reads a provider's API key from
 * (the table in `@mariozechner/pi-ai`'s `env-api-keys.js`).
 */
export const PROVIDER_API_KEY_ENV: Readonly<Record<string, string>> = Object.freeze({
  anthropic: 'ANTHROPIC_API_KEY',
  openai: 'OPENAI_API_KEY',
  'azure-openai-responses': 'AZURE_OPENAI_API_KEY',
  azure: 'AZURE_OPENAI_API_KEY',
  google: 'GEMINI_API_KEY',
  'google-vertex': 'GOOGLE_CLOUD_API_KEY',
  'github-copilot': 'COPILOT_GITHUB_TOKEN',
  deepseek: 'DEEPSEEK_API_KEY',
  groq: 'GROQ_API_KEY',
  cerebras: 'CEREBRAS_API_KEY',
  xai: 'XAI_API_KEY',
  openrouter: 'OPENROUTER_API_KEY',
  'vercel-ai-gateway': 'AI_GATEWAY_API_KEY',
  zai: 'ZAI_API_KEY',
  mistral: 'MISTRAL_API_KEY',
  minimax: 'MINIMAX_API_KEY',
  'minimax-cn': 'MINIMAX_CN_API_KEY',
  moonshotai: 'MOONSHOT_API_KEY',
  'moonshotai-cn': 'MOONSHOT_API_KEY',
  huggingface: 'HF_TOKEN',
  fireworks: 'FIREWORKS_API_KEY',
  opencode: 'OPENCODE_API_KEY',
  'opencode-go': 'OPENCODE_API_KEY',
  'kimi-coding': 'KIMI_API_KEY',
  'cloudflare-workers-ai': 'CLOUDFLARE_API_KEY',
  'cloudflare-ai-gateway': 'CLOUDFLARE_API_KEY',
  xiaomi: 'XIAOMI_API_KEY',
  nvidia: 'NVIDIA_API_KEY',
  together: 'TOGETHER_API_KEY',
});

/**
 * The variable pi reads `provider`'s API key from: its entry in {@link PROVIDER_API_KEY_ENV}
 * (an own property only, so `constructor` or `__proto__` is a provider name like any other),
 * else {@link conventionalApiKeyEnv}.
 */
export function providerApiKeyEnv(provider: string): string {
  return Object.hasOwn(PROVIDER_API_KEY_ENV, provider) ? (PROVIDER_API_KEY_ENV[provider] as string) : conventionalApiKeyEnv(provider);
}

/** `my-provider` → `MY_PROVIDER_API_KEY`, the convention pi uses for providers it doesn't list. */
export function conventionalApiKeyEnv(provider: string): string {
  return `${provider.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_API_KEY`;
}
