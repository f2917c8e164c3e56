/**
 * How LiteLLM's auth exception handler turns each kind of raised error into a response
 * (`auth_exception_handler.py::_handle_authentication_error`, litellm-auth.md §1.2).
 * Checks build their denials through these so status, type and param stay LiteLLM's.
 */
import { deny, type Denial } from './types';
import { pyDict, pyFloat } from './python-format';

/**
 * LiteLLM fills `param` with `getattr(e, "param", "None")` for plain exceptions and
 * HTTPExceptions, so clients receive the *string* "None", not null. Copied as is.
 */
export const LITELLM_MISSING_PARAM = 'None';

/** `litellm.BudgetExceededError` → 400 `budget_exceeded`, message unchanged, param null. */
export function budgetExceeded(message: string): Denial {
  return deny(400, 'budget_exceeded', message, null);
}

/** `BudgetExceededError(current_cost, max_budget)` without a custom message (`litellm/exceptions.py`). */
export function defaultBudgetExceededMessage(currentCost: string, maxBudget: string): string {
  return `Budget has been exceeded! Current cost: ${currentCost}, Max budget: ${maxBudget}`;
}

/** A DB-sourced budget pair, both Python floats. */
export function defaultBudgetExceeded(spend: number, maxBudget: number): Denial {
  return budgetExceeded(defaultBudgetExceededMessage(pyFloat(spend), pyFloat(maxBudget)));
}

/** A plain `Exception`/`ValueError` → 401 `auth_error`, "Authentication Error, " + message. */
export function authErrorFromException(message: string): Denial {
  return deny(401, 'auth_error', `Authentication Error, ${message}`, LITELLM_MISSING_PARAM);
}

/** `HTTPException(status, detail=str)` → that status, `auth_error`, the detail as message. */
export function authErrorFromHttpException(status: number, detail: string): Denial {
  return deny(status, 'auth_error', detail, LITELLM_MISSING_PARAM);
}

/**
 * `HTTPException(status, detail={"error": text})`: the ProxyException stringifies the dict,
 * so the message is Python's `{'error': '…'}`.
 */
export function authErrorFromHttpExceptionDict(status: number, detail: Readonly<Record<string, string>>): Denial {
  return deny(status, 'auth_error', pyDict(detail), LITELLM_MISSING_PARAM);
}
