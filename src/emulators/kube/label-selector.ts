/**
 * The label selector language, parsed as apimachinery's labels.Parse does (its lexer and recursive
 * descent, its error texts), so a selector the API server refuses is a 400 with the same message
 * (`found '=', expected: ',' or 'end of string'`) and one it takes selects the same objects,
 * including the numeric `>` and `<`. Note that `x notin ()` is valid: `()` is the empty value.
 */
import { labelValueErrors, qualifiedNameErrors } from '../../core/secrets/kube-names.js';

export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | '>' | '<' | 'exists' | '!';

export interface LabelRequirement {
  key: string;
  op: LabelOperator;
  values: string[];
}

type Token = 'error' | 'end' | ')' | ',' | '!' | '==' | '=' | '>' | 'id' | 'in' | '<' | '!=' | 'notin' | '(';

const LITERALS: Readonly<Record<string, Token>> = { ')': ')', ',': ',', '!': '!', '==': '==', '=': '=', '>': '>', in: 'in', '<': '<', '!=': '!=', notin: 'notin', '(': '(' };
const BINARY_OPERATORS = 'in, notin, =, ==, !=, gt, lt';

const isWhitespace = (ch: string): boolean => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
const isSpecial = (ch: string): boolean => '=!(),><'.includes(ch) && ch !== '';

function lex(text: string): { tok: Token; lit: string }[] {
  const items: { tok: Token; lit: string }[] = [];
  let pos = 0;
  for (;;) {
    while (pos < text.length && isWhitespace(text[pos] ?? '')) pos++;
    if (pos >= text.length) {
      items.push({ tok: 'end', lit: '' });
      return items;
    }
    if (isSpecial(text[pos] ?? '')) {
      let buffer = '';
      let last: { tok: Token; lit: string } | undefined;
      while (pos < text.length && isSpecial(text[pos] ?? '')) {
        buffer += text[pos];
        const tok = LITERALS[buffer];
        if (tok !== undefined) last = { tok, lit: buffer };
        else if (last !== undefined) break;
        pos++;
      }
      items.push(last ?? { tok: 'error', lit: `error expected: keyword found '${buffer}'` });
      continue;
    }
    let buffer = '';
    while (pos < text.length && !isSpecial(text[pos] ?? '') && !isWhitespace(text[pos] ?? '')) buffer += text[pos++];
    items.push({ tok: LITERALS[buffer] ?? 'id', lit: buffer });
  }
}

class SelectorError extends Error {}

/** field.Invalid's text for a string value. */
const invalidText = (field: string, value: string, detail: string): string => `${field}: Invalid value: ${JSON.stringify(value)}: ${detail}`;

/** NewRequirement's checks, as one aggregated message ('' when valid). */
function requirementErrors(key: string, op: LabelOperator, values: string[]): string[] {
  const errors: string[] = [];
  const keyErrors = qualifiedNameErrors(key);
  if (keyErrors.length > 0) errors.push(invalidText('key', key, keyErrors.join('; ')));
  if ((op === 'in' || op === 'notin') && values.length === 0) errors.push(`values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty`);
  if ((op === '>' || op === '<') && values.length === 1 && !/^[-+]?\d+$/.test(values[0] ?? '')) {
    errors.push(invalidText('values[0]', values[0] ?? '', "for 'Gt', 'Lt' operators, the value must be an integer"));
  }
  values.forEach((v, i) => {
    const valueErrors = labelValueErrors(v);
    if (valueErrors.length > 0) errors.push(invalidText(`values[${i}][${key}]`, v, valueErrors.join('; ')));
  });
  return errors;
}

/** Parses a label selector; throws an Error with labels.Parse's message when it is invalid. */
export function parseLabelRequirements(text: string): LabelRequirement[] {
  const items = lex(text);
  let position = 0;
  // In value context the keywords `in` and `notin` are plain identifiers.
  const asValue = (tok: Token): Token => (tok === 'in' || tok === 'notin' ? 'id' : tok);
  const lookahead = (values: boolean): { tok: Token; lit: string } => {
    const item = items[position] ?? { tok: 'end', lit: '' };
    return values ? { tok: asValue(item.tok), lit: item.lit } : item;
  };
  const consume = (values: boolean): { tok: Token; lit: string } => {
    const item = lookahead(values);
    position++;
    return item;
  };
  const fail = (message: string): never => {
    throw new SelectorError(message);
  };

  const parseValues = (): string[] => {
    const open = consume(true);
    if (open.tok !== '(') fail(`found '${open.lit}' expected: '('`);
    const next = lookahead(true);
    if (next.tok === ')') {
      consume(true);
      return [''];
    }
    if (next.tok !== 'id' && next.tok !== ',') fail(`found '${next.lit}', expected: ',', ')' or identifier`);
    const set = new Set<string>();
    for (;;) {
      const item = consume(true);
      if (item.tok === 'id') {
        set.add(item.lit);
        const after = lookahead(true);
        if (after.tok === ',') continue;
        if (after.tok === ')') break;
        fail(`found '${after.lit}', expected: ',' or ')'`);
      } else if (item.tok === ',') {
        if (set.size === 0) set.add('');
        const after = lookahead(true);
        if (after.tok === ')') {
          set.add('');
          break;
        }
        if (after.tok === ',') {
          consume(true);
          set.add('');
        }
      } else fail(`found '${item.lit}', expected: ',', or identifier`);
    }
    if (consume(true).tok !== ')') fail(`found '${next.lit}', expected: ')'`);
    return [...set].sort();
  };

  const parseRequirement = (): LabelRequirement => {
    let item = consume(true);
    let op: LabelOperator | undefined;
    if (item.tok === '!') {
      op = '!';
      item = consume(true);
    }
    if (item.tok !== 'id') fail(`found '${item.lit}', expected: identifier`);
    const key = item.lit;
    const keyErrors = qualifiedNameErrors(key);
    if (keyErrors.length > 0) fail(invalidText('<nil>', key, keyErrors.join('; ')));
    const next = lookahead(true).tok;
    if (next === 'end' || next === ',') op ??= 'exists';
    if (op === 'exists' || op === '!') return { key, op, values: [] };
    const opItem = consume(false);
    const operators: Partial<Record<Token, LabelOperator>> = { in: 'in', notin: 'notin', '=': '=', '==': '==', '!=': '!=', '>': '>', '<': '<' };
    const operator = operators[opItem.tok] ?? fail(`found '${opItem.lit}', expected: ${BINARY_OPERATORS}`);
    let values: string[];
    if (operator === 'in' || operator === 'notin') values = parseValues();
    else {
      const ahead = lookahead(true);
      if (ahead.tok === 'end' || ahead.tok === ',') values = [''];
      else {
        const value = consume(true);
        values = value.tok === 'id' ? [value.lit] : fail(`found '${value.lit}', expected: identifier`);
      }
    }
    const errors = requirementErrors(key, operator, values);
    if (errors.length > 0) fail(errors.length === 1 ? (errors[0] ?? '') : `[${errors.join(', ')}]`);
    return { key, op: operator, values };
  };

  const requirements: LabelRequirement[] = [];
  for (;;) {
    const { tok, lit } = lookahead(true);
    if (tok === 'end') return requirements;
    if (tok !== 'id' && tok !== '!') fail(`found '${lit}', expected: !, identifier, or 'end of string'`);
    try {
      requirements.push(parseRequirement());
    } catch (err) {
      if (err instanceof SelectorError) throw new SelectorError(`unable to parse requirement: ${err.message}`);
      throw err;
    }
    const after = consume(true);
    if (after.tok === 'end') return requirements;
    if (after.tok !== ',') fail(`found '${after.lit}', expected: ',' or 'end of string'`);
    const following = lookahead(true);
    if (following.tok !== 'id' && following.tok !== '!') fail(`found '${following.lit}', expected: identifier after ','`);
  }
}

/** Requirement.Matches. */
export function requirementMatches(req: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  const value = labels[req.key] ?? '';
  switch (req.op) {
    case 'in':
    case '=':
    case '==':
      return has && req.values.includes(value);
    case 'notin':
    case '!=':
      return !has || !req.values.includes(value);
    case 'exists':
      return has;
    case '!':
      return !has;
    case '>':
    case '<': {
      if (!has || !/^[-+]?\d+$/.test(value)) return false;
      const actual = BigInt(value);
      const bound = BigInt(req.values[0] ?? '0');
      return req.op === '>' ? actual > bound : actual < bound;
    }
  }
}
