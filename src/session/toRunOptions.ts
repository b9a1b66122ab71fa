import { PiUnsupportedError } from '../errors.js';
import { validateRunLimits } from '../limits/RunLimits.js';
import { describeDialect, type Capabilities } from '../protocol/dialects.js';
import { outputRequest } from '../tools/outputTool.js';
import type { RunOptions } from './PromptQueue.js';
import type { PromptOptions } from './types.js';

/**
 * What a prompt asks of its run, checked: the result tool of `output`, the `limits`.
 *
 * @param canOfferOutput Whether this session can offer a result tool (pidriver's extension is loaded, or omp).
 * @throws {PiConfigError} a bad `output`, `outputAttempts` or `limits` value, naming it.
 * @throws {PiUnsupportedError} `output` where no result tool can be offered.
 * @internal
 */
export function toRunOptions(options: Omit<PromptOptions, 'signal'>, canOfferOutput: boolean, capabilities: Capabilities): RunOptions {
  if (options.output !== undefined && !canOfferOutput) {
    throw new PiUnsupportedError(
      'structured output',
      describeDialect(capabilities),
      "pidriver's extension is not loaded: it was not found (set config.approvalExtensionPath), or the session was not started by PiClient",
    );
  }
  return {
    images: options.images,
    output: options.output === undefined ? undefined : outputRequest(options.output, options.outputAttempts),
    limits: options.limits === undefined ? undefined : validateRunLimits(options.limits, 'limits'),
  };
}
