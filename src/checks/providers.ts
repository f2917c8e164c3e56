/**
 * A small stand-in for LiteLLM's `get_llm_provider(model)`, used only to match bare model names
 * against provider wildcards (`gpt-4o` is allowed by `openai/*`, litellm-auth.md §5 step 3d).
 *
 * Like LiteLLM, it looks at the name alone: an explicit `provider/model` prefix, or a well-known
 * bare name family. It does not consult the proxy's model_list (LiteLLM's `get_llm_provider`
 * does not either), so a config alias such as `my-gpt` → `openai/gpt-4o` is not "openai" here.
 * Anything not recognised returns null, which LiteLLM treats as "no match" (it raises and the
 * caller swallows the error).
 */

/** Provider prefixes LiteLLM accepts in `provider/model` (a subset of `litellm.provider_list`). */
const KNOWN_PROVIDERS: ReadonlySet<string> = new Set([
  'openai',
  'text-completion-openai',
  'custom_openai',
  'openai_like',
  'azure',
  'azure_text',
  'azure_ai',
  'anthropic',
  'anthropic_text',
  'bedrock',
  'sagemaker',
  'sagemaker_chat',
  'vertex_ai',
  'vertex_ai_beta',
  'gemini',
  'palm',
  'cohere',
  'cohere_chat',
  'mistral',
  'codestral',
  'groq',
  'together_ai',
  'openrouter',
  'ollama',
  'ollama_chat',
  'deepseek',
  'xai',
  'fireworks_ai',
  'huggingface',
  'replicate',
  'perplexity',
  'watsonx',
  'watsonx_text',
  'databricks',
  'deepinfra',
  'anyscale',
  'cloudflare',
  'voyage',
  'jina_ai',
  'nvidia_nim',
  'cerebras',
  'sambanova',
  'ai21',
  'ai21_chat',
  'nlp_cloud',
  'aleph_alpha',
  'predibase',
  'friendliai',
  'github',
  'github_copilot',
  'hosted_vllm',
  'vllm',
  'lm_studio',
  'llamafile',
  'litellm_proxy',
  'dashscope',
  'moonshot',
  'novita',
  'nebius',
  'infinity',
  'triton',
  'clarifai',
  'baseten',
  'featherless_ai',
  'hyperbolic',
  'lambda_ai',
  'oci',
  'snowflake',
  'meta_llama',
  'assemblyai',
  'elevenlabs',
  'deepgram',
  'fal_ai',
  'recraft',
  'volcengine',
  'xinference',
  'datarobot',
]);

/** Bare-name families, checked in order (LiteLLM's per-provider model lists, summarised). */
const BARE_NAME_PROVIDERS: readonly (readonly [RegExp, string])[] = [
  // OpenAI's legacy completion models are served by LiteLLM's "text-completion-openai".
  [/^(gpt-3\.5-turbo-instruct|text-davinci-|davinci-002$|babbage-002$)/, 'text-completion-openai'],
  [/^(gpt-|chatgpt-|o1($|-)|o3($|-)|o4-|text-embedding-|dall-e-|whisper-|tts-|omni-moderation|text-moderation|gpt-image-|computer-use-preview|codex-mini)/, 'openai'],
  [/^claude-/, 'anthropic'],
  // LiteLLM lists bare `gemini-*` names under vertex_language_models; `gemini/…` is Google AI Studio.
  [/^gemini-/, 'vertex_ai'],
  // Bedrock model ids (litellm.bedrock_models): `<vendor>.<model>` with a version suffix
  // (`anthropic.claude-3-5-sonnet-20240620-v1:0`, `amazon.nova-micro-v1:0`), optionally behind a
  // cross-region inference prefix (`us.`, `eu.`, `apac.`, …). No other provider names models so.
  [/^(?:(?:us|eu|apac|us-gov|global|jp|au|ca)\.)?(?:anthropic|amazon|meta|mistral|cohere|ai21|deepseek|writer|qwen|openai|twelvelabs|stability|luma)\.[a-z0-9][a-z0-9.-]*-v\d+(?::\d+)?$/, 'bedrock'],
];

export interface ProviderModel {
  readonly provider: string;
  /** The model name without the provider prefix. */
  readonly model: string;
}

/** `model.split("/", 1)[0] in litellm.provider_list`, over the providers Tollgate knows. */
export function isKnownProvider(name: string): boolean {
  return KNOWN_PROVIDERS.has(name);
}

export function inferProvider(model: string): ProviderModel | null {
  const slash = model.indexOf('/');
  if (slash > 0) {
    const prefix = model.slice(0, slash);
    if (KNOWN_PROVIDERS.has(prefix)) return { provider: prefix, model: model.slice(slash + 1) };
  }
  for (const [pattern, provider] of BARE_NAME_PROVIDERS) {
    if (pattern.test(model)) return { provider, model };
  }
  return null;
}
