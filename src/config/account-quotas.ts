/**
 * `--account-quotas`: the account-and-Region quotas where the user's differ from AWS's defaults,
 * written `Action=callsPerSecond` and comma-separated, e.g. `GetParameters=3000` once SSM's
 * higher-throughput setting is on, or a raised BatchGetSecretValue quota. The per-node budgets are
 * these divided by the fleet size, as for the defaults (src/adapters/aws/rate-budget.ts).
 */
import { invalidArgument } from '../core/errors.js';
import type { SecretletError } from '../core/errors.js';
import { BUDGETED_ACTIONS } from '../adapters/aws/rate-budget.js';
import type { AccountQuotas, BudgetedAction } from '../adapters/aws/rate-budget.js';

const NUMBER = /^\d+(\.\d+)?$/;

export function parseAccountQuotas(text: string): AccountQuotas {
  const out: AccountQuotas = {};
  for (const item of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = item.indexOf('=');
    const action = (eq < 0 ? item : item.slice(0, eq)).trim();
    const value = eq < 0 ? '' : item.slice(eq + 1).trim();
    if (!isBudgetedAction(action)) {
      throw invalid(`names "${action}", which has no budget; the actions with one are ${BUDGETED_ACTIONS.join(', ')}`);
    }
    if (action in out) throw invalid(`names ${action} twice`);
    const quota = NUMBER.test(value) ? Number(value) : NaN;
    if (!(quota > 0)) throw invalid(`gives ${action} "${value}"; a quota is a number of calls per second above 0, as in ${action}=100`);
    out[action] = quota;
  }
  return out;
}

function isBudgetedAction(name: string): name is BudgetedAction {
  return (BUDGETED_ACTIONS as readonly string[]).includes(name);
}

function invalid(what: string): SecretletError {
  return invalidArgument('InvalidOption', `options.accountQuotas ${what}`, 'accountQuotas');
}
