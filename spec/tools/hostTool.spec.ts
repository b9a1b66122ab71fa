/**
 * `hostTool()` and the result tool of structured output (`outputRequest`): what they accept, what
 * they refuse (a `PiConfigError` naming the field), the JSON Schema the model sees, and how invalid
 * arguments are described to the model.
 */
import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { PiConfigError } from '../../src/errors.js';
import { describeIssues, hostTool, objectJsonSchema } from '../../src/tools/hostTool.js';
import { DEFAULT_OUTPUT_ATTEMPTS, OUTPUT_TOOL_NAME, outputRequest } from '../../src/tools/outputTool.js';

const parameters = z.object({ sku: z.string().min(3) });
const execute = () => 'ok';

/** The PiConfigError `run` throws (fails the test if it throws anything else, or nothing). */
function configError(run: () => unknown): PiConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PiConfigError);
    return error as PiConfigError;
  }
  throw new Error('expected a PiConfigError, nothing was thrown');
}

describe('hostTool', () => {
  it('keeps the name and description, defaults the label to the name, and calls execute with the arguments and context', () => {
    const seen: unknown[] = [];
    const tool = hostTool({
      name: 'lookup_stock',
      description: 'Looks up stock.',
      parameters,
      execute: (args, context) => {
        seen.push(args, context.toolCallId);
        return `12 units of ${args.sku}`;
      },
    });
    expect(tool).toMatchObject({ name: 'lookup_stock', description: 'Looks up stock.', label: 'lookup_stock' });
    expect(tool.parameters).toBe(parameters);
    const context = { signal: new AbortController().signal, session: undefined as never, toolCallId: 'call_1' };
    expect(tool.execute({ sku: 'A-100' }, context)).toBe('12 units of A-100');
    expect(seen).toEqual([{ sku: 'A-100' }, 'call_1']);
    expect(hostTool({ name: 't', label: 'A label', description: 'd', parameters, execute }).label).toBe('A label');
  });

  it.each(['a', 'A-b_9', 'x'.repeat(64)])('accepts the name %j', (name) => {
    expect(hostTool({ name, description: 'd', parameters, execute }).name).toBe(name);
  });

  it.each(['', 'has space', 'dotted.name', 'slash/name', 'x'.repeat(65), 'émoji', 42, undefined])(
    'refuses the name %j with a PiConfigError on tools.name',
    (name) => {
      const error = configError(() => hostTool({ name: name as string, description: 'd', parameters, execute }));
      expect(error.field).toBe('tools.name');
      expect(error.message).toMatch(/1-64 letters, digits/);
    },
  );

  it.each(['', '   ', '\n\t', undefined, 7])('refuses the description %j, naming tools.<name>.description', (description) => {
    const error = configError(() => hostTool({ name: 'lookup', description: description as string, parameters, execute }));
    expect(error.field).toBe('tools.lookup.description');
    expect(error.message).toMatch(/description must be a non-empty string/);
  });

  it('refuses an execute that is not a function, naming tools.<name>.execute', () => {
    const error = configError(() => hostTool({ name: 'lookup', description: 'd', parameters, execute: 'nope' as never }));
    expect(error.field).toBe('tools.lookup.execute');
  });

  it.each([
    ['a string', z.string()],
    ['an array', z.array(z.string())],
    ['a union of objects and strings', z.union([z.object({ a: z.string() }), z.string()])],
    ['a number', z.number()],
  ])('refuses parameters that are %s: the model passes named arguments', (_what, schema) => {
    const error = configError(() => hostTool({ name: 'lookup', description: 'd', parameters: schema, execute }));
    expect(error.field).toBe('tools.lookup.parameters');
    expect(error.message).toMatch(/must be an object schema/);
  });

  it('refuses parameters that are not a zod schema at all', () => {
    const error = configError(() => hostTool({ name: 'lookup', description: 'd', parameters: { type: 'object' } as never, execute }));
    expect(error.field).toBe('tools.lookup.parameters');
    expect(error.message).toMatch(/must be a zod schema/);
  });

  it('gives the JSON Schema of the input side, without $schema, frozen', () => {
    const tool = hostTool({
      name: 'lookup',
      description: 'd',
      parameters: z.object({ sku: z.string().min(3).describe('The SKU'), count: z.number().int().default(1), note: z.string().optional() }),
      execute,
    });
    expect(tool.jsonSchema).not.toHaveProperty('$schema');
    expect(tool.jsonSchema).toEqual({
      type: 'object',
      properties: {
        sku: { type: 'string', minLength: 3, description: 'The SKU' },
        count: { type: 'integer', default: 1, minimum: expect.any(Number) as number, maximum: expect.any(Number) as number },
        note: { type: 'string' },
      },
      // The input side: a field with a default is optional for the model.
      required: ['sku'],
    });
    expect(Object.isFrozen(tool.jsonSchema)).toBe(true);
  });

  it('objectJsonSchema names the field it was given', () => {
    expect(objectJsonSchema(z.object({}), 'x.y')).toEqual({ type: 'object', properties: {} });
    expect(configError(() => objectJsonSchema(z.boolean(), 'x.y')).field).toBe('x.y');
  });
});

describe('describeIssues', () => {
  const schema = z.object({ sku: z.string(), where: z.object({ shelf: z.number() }) });

  it('names each field by its path, for the model', () => {
    const parsed = schema.safeParse({ sku: 42, where: { shelf: 'top' } });
    expect(parsed.success).toBe(false);
    const text = describeIssues(parsed.error!);
    expect(text).toBe('sku: Invalid input: expected string, received number; where.shelf: Invalid input: expected number, received string');
  });

  it('says "(arguments)" for an issue with the whole arguments', () => {
    const parsed = schema.safeParse('not an object');
    expect(describeIssues(parsed.error!)).toBe('(arguments): Invalid input: expected object, received string');
  });
});

describe('outputRequest', () => {
  const City = z.object({ city: z.string(), population: z.number() });

  it('offers submit_result with the schema as its parameters; 3 attempts by default', () => {
    const request = outputRequest(City);
    expect(request.schema).toBe(City);
    expect(request.maxAttempts).toBe(DEFAULT_OUTPUT_ATTEMPTS);
    expect(DEFAULT_OUTPUT_ATTEMPTS).toBe(3);
    expect(request.spec).toMatchObject({
      name: OUTPUT_TOOL_NAME,
      label: 'Submit result',
      description: expect.stringContaining('exactly once') as string,
      parameters: { type: 'object', properties: { city: { type: 'string' }, population: { type: 'number' } }, required: ['city', 'population'] },
    });
    expect(OUTPUT_TOOL_NAME).toBe('submit_result');
    expect(request.spec.parameters).not.toHaveProperty('$schema');
    expect(outputRequest(City, 1).maxAttempts).toBe(1);
  });

  it.each([0, -1, 1.5, Number.NaN, Infinity, '2' as unknown as number])('refuses outputAttempts %j, naming outputAttempts', (attempts) => {
    const error = configError(() => outputRequest(City, attempts));
    expect(error.field).toBe('outputAttempts');
    expect(error.message).toMatch(/positive integer/);
  });

  it('refuses a schema that is not an object schema, naming output', () => {
    expect(configError(() => outputRequest(z.string())).field).toBe('output');
    expect(configError(() => outputRequest(z.array(City))).field).toBe('output');
  });
});
